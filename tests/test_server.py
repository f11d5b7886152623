"""rpc.server.Service: a service process freezes what its framework's load made."""

from __future__ import annotations

import gc

import pytest

from nnrosetta.rpc.server import Service


@pytest.mark.parametrize("freeze", [True, False])
def test_freeze_gc_after_load(freeze):
    loaded = []
    gc.unfreeze()
    svc = Service("unit", [], lambda server: None, port=0, host="127.0.0.1",
                  load=lambda: loaded.append([object() for _ in range(1000)]),
                  freeze_gc=freeze)
    try:
        svc.start()
        assert svc.ready.wait(10)
        assert loaded
        # the load's objects (and everything else alive then) are frozen only when asked
        assert (gc.get_freeze_count() >= 1000) is freeze
    finally:
        gc.unfreeze()
        svc.stop(0)
