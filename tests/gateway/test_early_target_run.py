"""The target's verification Run starts as soon as the backend says the files its Run reads
are written (FromIR Progress stage "runnable"), while its FromIR still writes the rest; only
where the files can go by path (a shared folder). Elsewhere it waits for FromIR, as before."""

from __future__ import annotations

import threading
from pathlib import Path

import grpc
import numpy as np
import pytest

from nnrosetta import shared
from nnrosetta.ir.graph import Graph, Node
from nnrosetta.proto import converter_pb2 as cpb
from nnrosetta.proto import converter_pb2_grpc as cpb_grpc
from nnrosetta.proto import gateway_pb2 as gpb
from nnrosetta.rpc.converter import Converter, Progress, serve
from nnrosetta_gateway import planner
from nnrosetta_gateway.pipeline import RUNNABLE, Conversion, HopRecord, WeightTee
from nnrosetta_gateway.pool import Replica


class SlowBackend(Converter):
    """Writes "code", says runnable, then waits (up to ``wait`` s) for a Run before writing
    "compiled": a Run that arrives while it waits was started early."""

    name = "backend-fake"

    def __init__(self, wait: float):
        self.wait = wait
        self.run_seen = threading.Event()
        self.runs: list[dict] = []

    def describe(self):
        return {"framework": "fake", "framework_version": "1", "reads": ["ir"],
                "writes": ["fake"]}

    def check(self, model):
        return [], None

    def from_ir(self, graph, weights, options, workdir):
        p = Path(workdir) / "code.txt"
        p.write_text("2")
        yield ("code.txt", str(p))
        yield Progress(RUNNABLE, "code.txt written", 1.0)
        self.early = self.run_seen.wait(self.wait)
        q = Path(workdir) / "compiled.bin"
        q.write_bytes(b"slow")
        yield ("compiled.bin", str(q))

    def run(self, model, inputs, fetch):
        self.runs.append(sorted(Path(p).name for p in model.files.values()))
        k = float(Path(next(iter(model.files.values()))).read_text())
        self.run_seen.set()
        return [("y", inputs["x"] * k)], {"runtime": "fake"}


def _backend(conv):
    svc = serve(conv, port=0)
    ch = grpc.insecure_channel(f"127.0.0.1:{svc.port}")
    stub = cpb_grpc.ConverterStub(ch)
    info = stub.Describe(cpb.DescribeRequest(), timeout=30)
    return svc, ch, Replica(f"127.0.0.1:{svc.port}", ch, stub, info, True)


def _graph():
    return Graph([Node("x", "Input", [], {"shape": [1, 3]}), Node("y", "Relu", ["x"])], ["y"])


@pytest.mark.parametrize("share", [True, False])
def test_target_run_starts_when_the_backend_is_runnable(shared_dir, tmp_path, monkeypatch,
                                                        share):
    if not share:
        monkeypatch.delenv(shared.ENV)
    fake = SlowBackend(60 if share else 2)   # without sharing no Run is to come
    svc, ch, rep = _backend(fake)
    try:
        c = Conversion(gpb.ConvertRequest(source_format="ir", target_format="fake"), None,
                       None, lambda e: None)
        c._tee = WeightTee(None)
        c.graph = _graph()
        step = planner.Step("backend-fake", "FromIR", "ir", "fake", "1")
        hop = HopRecord(0, step, rep)
        work = Path(shared.mkdtemp("nnr-gw-") or tmp_path / "work")
        out = work / "out"
        out.mkdir(parents=True)
        hand = None
        if share:
            hand = work / "hand"
            hand.mkdir()
        stream = iter([cpb.IRChunk(graph=c.graph.to_proto())])
        files = c._from_ir(hop, stream, {}, out, "", hand, early_run=True)
        assert sorted(files) == ["code.txt", "compiled.bin"]
        if share:   # the Run came while FromIR waited, with the files written by then
            assert fake.early and c._target_run is not None
            vals, _ = c._target_run.result(timeout=30)
            assert fake.runs == [["code.txt"]]
            np.testing.assert_array_equal(vals["y"], c._verify_inputs()[0]["x"] * 2)
        else:       # bytes only: no early Run (the kept files are named after FromIR)
            assert not fake.early and c._target_run is None and fake.runs == []
    finally:
        if c._pool is not None:
            c._pool.shutdown(wait=True)
        ch.close()
        svc.stop(0)
