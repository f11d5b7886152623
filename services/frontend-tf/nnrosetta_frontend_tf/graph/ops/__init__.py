"""TF op importers, one file per op family, registered by op type."""

from __future__ import annotations

import importlib
import pkgutil

from nnrosetta_frontend_tf.graph.ops._base import (
    IMPORTERS,
    Importer,
    NodeIssue,
    TFNode,
    Unsupported,
    tf_op,
)

__all__ = ["IMPORTERS", "Importer", "NodeIssue", "TFNode", "Unsupported", "all_importers",
           "tf_op"]

_loaded = False


def all_importers() -> dict[str, Importer]:
    global _loaded
    if not _loaded:
        for m in pkgutil.iter_modules(__path__):
            if not m.name.startswith("_"):
                importlib.import_module(f"{__name__}.{m.name}")
        _loaded = True
    return dict(IMPORTERS)
