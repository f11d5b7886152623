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


class FakeBackend(Converter):
    name = "backend-fake"

    def describe(self):
        return {"framework": "fake", "framework_version": "1", "reads": ["ir"],
                "writes": ["fake"]}

    def check(self, model):
        return [], None


class SlowBackend(FakeBackend):
    """Writes "code", says runnable, then waits (up to ``wait`` s) for a Run before writing
    "compiled": a Run that arrives while it waits was started early."""

    def __init__(self, wait: float):
        self.wait = wait
        self.run_seen = threading.Event()
        self.runs: list[dict] = []

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
            assert fake.early and list(c._target_runs) == [()]
            vals, _ = c._target_runs[()].result(timeout=30)
            assert fake.runs == [["code.txt"]]
            np.testing.assert_array_equal(vals["y"], c._verify_inputs()[0]["x"] * 2)
        else:       # bytes only: no early Run (the kept files are named after FromIR)
            assert not fake.early and not c._target_runs and fake.runs == []
    finally:
        if c._pool is not None:
            c._pool.shutdown(wait=True)
        ch.close()
        svc.stop(0)


class TwoForms(FakeBackend):
    """An output that can be run in two forms ("code" and "compiled", each announced by a
    "runnable" with its Run options); ``compiled`` is what the compiled form computes."""

    def __init__(self, compiled: str):
        self.compiled = compiled
        self.runs: list[tuple[str, list[str]]] = []

    def from_ir(self, graph, weights, options, workdir):
        for name, use, text in (("code.txt", "code", "relu"),
                                ("compiled.bin", "compiled", self.compiled)):
            p = Path(workdir) / name
            p.write_text(text)
            yield (name, str(p))
            yield Progress(RUNNABLE, f"{name} written", 1.0, {"use": use})

    def run(self, model, inputs, fetch):
        use = model.options.get("use", "code")
        by_name = {Path(p).name: p for p in model.files.values()}
        self.runs.append((use, sorted(by_name)))
        text = Path(by_name["code.txt" if use == "code" else "compiled.bin"]).read_text()
        x = inputs["x"]
        return [("y", np.maximum(x, 0) if text == "relu" else x * 2)], {"runtime": use}


@pytest.mark.parametrize("share", [True, False])
@pytest.mark.parametrize("compiled", ["relu", "wrong"])
def test_every_form_of_the_output_is_verified(shared_dir, tmp_path, monkeypatch, share,
                                              compiled):
    """Each form a backend announces is run with its options and compared with the source;
    one wrong form fails the verification, and the report says which."""
    from nnrosetta.ir import io as ir_io

    if not share:
        monkeypatch.delenv(shared.ENV)
    fake = TwoForms(compiled)
    svc, ch, rep = _backend(fake)
    c = None
    try:
        req = gpb.ConvertRequest(source_format="ir", target_format="fake",
                                 verify=gpb.VerifyOptions(disable_locate=True))
        c = Conversion(req, None, None, lambda e: None)
        c._tee = WeightTee(None)
        c.graph = _graph()
        src = tmp_path / "src"
        ir_io.save(c.graph, {}, src)
        sources = {"network": str(src / ir_io.GRAPH_PB), "weights": str(src / ir_io.WEIGHTS_NPZ)}
        step = planner.Step("backend-fake", "FromIR", "ir", "fake", "1")
        hop = HopRecord(0, step, rep)
        work = Path(shared.mkdtemp("nnr-gw-") or tmp_path / "work")
        out = work / "out"
        out.mkdir(parents=True)
        hand = work / "hand" if share else None
        if hand is not None:
            hand.mkdir()
        stream = iter([cpb.IRChunk(graph=c.graph.to_proto())])
        c._from_ir(hop, stream, {}, out, "", hand, early_run=True)
        assert c._forms == [{"use": "code"}, {"use": "compiled"}]
        report = c._verify([step], [rep], sources, out)
        assert sorted(u for u, _ in fake.runs) == ["code", "compiled"]
        if share:   # early: each Run had the files written by its "runnable"
            assert dict(fake.runs) == {"code": ["code.txt"],
                                       "compiled": ["code.txt", "compiled.bin"]}
        forms = report["forms"]
        assert [f["run_options"] for f in forms] == [{"use": "code"}, {"use": "compiled"}]
        assert forms[0]["status"] == "passed"
        assert report["target_runtime"]["runtime"] == "code"
        assert forms[1]["target_runtime"]["runtime"] == "compiled"
        good = compiled == "relu"
        assert forms[1]["status"] == ("passed" if good else "failed")
        assert forms[1]["outputs"][0]["pass"] is good
        assert report["status"] == ("passed" if good else "failed")
    finally:
        if c is not None and c._pool is not None:
            c._pool.shutdown(wait=True)
        ch.close()
        svc.stop(0)
