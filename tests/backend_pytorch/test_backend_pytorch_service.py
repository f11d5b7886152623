"""backend-pytorch Run (eager, TorchScript, IR with taps) and the real gRPC service."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from nnrosetta import wire
from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta.proto import converter_pb2 as pb
from nnrosetta.proto import converter_pb2_grpc as pb_grpc
from nnrosetta.rpc.converter import Model, serve
from nnrosetta.rpc.errors import ConversionError, issues_from_rpc_error
from nnrosetta_backend_pytorch.service import (
    MODEL_PY,
    TORCHSCRIPT_PT,
    WEIGHTS_PTH,
    PyTorchBackend,
)

from ._cases import CASES, feeds, graph, inp

BACKEND = PyTorchBackend()


def convert(g, w, folder) -> dict[str, str]:
    return {f: p for f, p in (i for i in BACKEND.from_ir(g, w, {}, str(folder))
                              if isinstance(i, tuple))}


def close(a, ref, rel=1e-5):
    assert a.shape == ref.shape
    assert np.max(np.abs(a - ref)) <= rel * max(1.0, float(np.max(np.abs(ref))))


def pytorch_model(files, use=None) -> Model:
    roles = {"code": MODEL_PY, "weights": WEIGHTS_PTH, "torchscript": TORCHSCRIPT_PT}
    return Model(format="pytorch", options={"use": use} if use else {},
                 files={r: files[f] for r, f in roles.items() if f in files})


@pytest.mark.parametrize("use", [None, "eager", "torchscript"])
def test_run_pytorch_format(tmp_path, use):
    g, w = CASES["caffe_like"]()
    files = convert(g, w, tmp_path)
    x = feeds(g)
    outs, info = BACKEND.run(pytorch_model(files, use), x, [])
    assert [n for n, _ in outs] == g.output_refs() == ["prob"]
    assert info["mode"] == (use or "eager") and "torch" in info
    close(outs[0][1], registry.run_reference(g, w, x)["prob"])


def test_torchscript_run_matches_the_optimized_executor(tmp_path):
    """Run (use=torchscript) calls the file once through the graph interpreter; what a user
    gets from the profiling executor's optimized calls is the same to the bit, as this torch
    build fuses nothing on CPU."""
    import torch

    assert not torch._C._jit_can_fuse_on_cpu() and not torch._C._llvm_enabled()
    g, w = CASES["caffe_like"]()
    files = convert(g, w, tmp_path)
    x = feeds(g)
    outs, info = BACKEND.run(pytorch_model(files, "torchscript"), x, [])
    assert "interpreter" in info["executor"]
    ts = torch.jit.load(files[TORCHSCRIPT_PT])
    args = [torch.from_numpy(v) for v in x.values()]
    with torch.no_grad():
        for _ in range(3):   # profiled, then optimized
            y = ts(*args)
    assert np.array_equal(y.numpy(), outs[0][1])


def test_run_pytorch_multi_output_names(tmp_path):
    g, w = CASES["split"]()
    files = convert(g, w, tmp_path)
    x = feeds(g)
    ref = registry.run_reference(g, w, x)
    for use in ("eager", "torchscript"):
        outs, _ = BACKEND.run(pytorch_model(files, use), x, [])
        assert [n for n, _ in outs] == ["r", "t"]
        for name, v in outs:
            close(v, ref[name])
    outs, _ = BACKEND.run(pytorch_model(files), x, ["t"])
    assert [n for n, _ in outs] == ["t"]
    with pytest.raises(ConversionError, match="format 'ir'"):
        BACKEND.run(pytorch_model(files), x, ["sp"])


def test_run_missing_input(tmp_path):
    g, w = CASES["relu"]()
    files = convert(g, w, tmp_path)
    with pytest.raises(ConversionError, match="not fed"):
        BACKEND.run(pytorch_model(files), {}, [])


def test_run_ir_fetch_intermediates(tmp_path):
    g, w = CASES["caffe_like"]()
    x = feeds(g)
    fetch = ["conv1/7x7_s2", "pool1/norm1", "inception_3a/output", "data", "prob"]
    model = Model(format="ir", graph=g, weights=w, workdir=str(tmp_path))
    outs, info = BACKEND.run(model, x, fetch)
    assert info["mode"] == "ir-eager"
    assert [n for n, _ in outs] == fetch
    ref = registry.run_reference(g, w, x, fetch)
    for name, v in outs:
        close(v, ref[name])
    outs, _ = BACKEND.run(model, x, [])
    assert [n for n, _ in outs] == ["prob"]


def test_run_ir_split_output_refs(tmp_path):
    g, w = CASES["split"]()
    x = feeds(g)
    model = Model(format="ir", graph=g, weights=w, workdir=str(tmp_path))
    outs, _ = BACKEND.run(model, x, ["sp:1", "sp"])
    ref = registry.run_reference(g, w, x, ["sp:1", "sp"])
    assert [n for n, _ in outs] == ["sp:1", "sp"]
    for name, v in outs:
        close(v, ref[name])
    with pytest.raises(ConversionError, match="no such IR node"):
        BACKEND.run(model, x, ["nope"])


# -- the real service over gRPC ----------------------------------------------------------------

@pytest.fixture(scope="module")
def channel():
    svc = serve(PyTorchBackend(), port=0)
    assert svc.ready.wait(120)
    ch = grpc.insecure_channel(svc.address)
    try:
        yield ch
    finally:
        ch.close()
        svc.stop(0)


def ir_stream(g, w, options=None):
    if options is not None:
        yield pb.IRChunk(header=pb.ModelHeader(format="ir", options=options))
    yield pb.IRChunk(graph=g.to_proto())
    for name, arr in w.items():
        for c in wire.tensor_chunks(name, arr):
            yield pb.IRChunk(tensor=c)


def test_grpc_from_ir_and_run(channel, tmp_path):
    stub = pb_grpc.ConverterStub(channel)
    d = stub.Describe(pb.DescribeRequest())
    assert d.name == "backend-pytorch" and d.framework == "pytorch" and "Conv" in d.ops_supported

    g, w = CASES["caffe_like"]()
    files = wire.FileAssembler(folder=str(tmp_path))
    stages = []
    for c in stub.FromIR(ir_stream(g, w, {"artifacts": "all"})):
        if c.WhichOneof("payload") == "file":
            files.add(c.file)
        else:
            stages.append(c.progress.stage)
    assert set(files.names()) == {MODEL_PY, WEIGHTS_PTH, TORCHSCRIPT_PT}
    assert stages[0] == "codegen" and "weights" in stages and "torchscript" in stages

    x = feeds(g)
    ref = registry.run_reference(g, w, x)["prob"]

    def run_req(use):
        roles = {"code": MODEL_PY, "weights": WEIGHTS_PTH, "torchscript": TORCHSCRIPT_PT}
        yield pb.RunChunk(header=pb.RunHeader(model=pb.ModelHeader(
            format="pytorch", files=roles, options={"use": use})))
        for name in roles.values():
            for c in wire.path_chunks(name, files.paths[name]):
                yield pb.RunChunk(file=c)
        for name, arr in x.items():
            for c in wire.tensor_chunks(name, arr):
                yield pb.RunChunk(tensor=c)

    for use in ("eager", "torchscript"):
        tensors = wire.TensorAssembler()
        header = None
        for c in stub.Run(run_req(use)):
            if c.WhichOneof("payload") == "tensor":
                tensors.add(c.tensor)
            else:
                header = c.header
        assert list(header.output_names) == ["prob"]
        assert header.info["mode"] == use
        close(tensors.done["prob"], ref)

    # format ir with fetch: intermediate values by IR node name
    def run_ir():
        yield pb.RunChunk(header=pb.RunHeader(model=pb.ModelHeader(format="ir"),
                                              fetch=["pool1/norm1", "prob"]))
        yield pb.RunChunk(graph=g.to_proto())
        for name, arr in [*w.items(), *x.items()]:
            for c in wire.tensor_chunks(name, arr):
                yield pb.RunChunk(tensor=c)

    tensors = wire.TensorAssembler()
    for c in stub.Run(run_ir()):
        if c.WhichOneof("payload") == "tensor":
            tensors.add(c.tensor)
    refs = registry.run_reference(g, w, x, ["pool1/norm1", "prob"])
    for k, v in refs.items():
        close(tensors.done[k], v)


def test_grpc_unsupported_ops_then_still_serving(channel):
    stub = pb_grpc.ConverterStub(channel)
    nodes = [inp(), Node("bad1", "Frobnicate", ["data"]), Node("r", "Relu", ["bad1"]),
             Node("bad2", "Gizmo", ["r"])]
    g, w = graph(nodes, {})
    with pytest.raises(grpc.RpcError) as ei:
        list(stub.FromIR(ir_stream(g, w)))
    assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason, issues = issues_from_rpc_error(ei.value)
    assert reason == "UNSUPPORTED_OP"
    assert [i.location for i in issues] == ["bad1", "bad2"]
    assert all(i.code == "UNSUPPORTED_OP" for i in issues)

    # Check lists the same problems without converting
    import os
    import tempfile

    from nnrosetta.rpc.converter import model_chunks
    with tempfile.TemporaryDirectory() as td:
        p = os.path.join(td, "graph.pb")
        with open(p, "wb") as f:
            f.write(g.to_proto().SerializeToString())
        resp = stub.Check(model_chunks("ir", {"network": p}))
    assert not resp.ok and [i.location for i in resp.issues] == ["bad1", "bad2"]

    # the service still answers
    g2, w2 = CASES["relu"]()
    chunks = list(stub.FromIR(ir_stream(g2, w2, {"artifacts": "code"})))
    names = {c.file.name for c in chunks if c.WhichOneof("payload") == "file"}
    assert names == {MODEL_PY, WEIGHTS_PTH}


# -- FromIR: TorchScript compiled beside the rest, "runnable" once Run's files are out ----------

def test_from_ir_order_and_torchscript(tmp_path):
    """model.py and weights.pth first, then Progress "runnable" use=eager (all that an eager
    Run reads is written: the gateway starts verifying then), then the TorchScript file,
    complete and loadable, and "runnable" use=torchscript; "code" artifacts: no TorchScript
    and no compile; "model": only the TorchScript form."""
    import json
    import threading

    import torch

    from nnrosetta.rpc.converter import Progress
    from nnrosetta_backend_pytorch.service import META_FILE, RUNNABLE

    g, w = CASES["caffe_like"]()
    x = feeds(g)
    ref = registry.run_reference(g, w, x)["prob"]
    order = []
    sent_files: dict[str, str] = {}
    for item in BACKEND.from_ir(g, w, {}, str(tmp_path)):
        if isinstance(item, Progress):
            if item.stage == RUNNABLE:
                use = item.run_options["use"]
                order.append(f"{RUNNABLE} {use}")
                # what Run reads with these options is complete now (and only the files
                # sent so far are given): the model's numbers
                got, info = BACKEND.run(pytorch_model(dict(sent_files), use=use), x, [])
                assert info["mode"] == use
                close(got[0][1], ref)
        else:
            order.append(item[0])
            sent_files[item[0]] = item[1]
    assert order == [MODEL_PY, WEIGHTS_PTH, f"{RUNNABLE} eager", TORCHSCRIPT_PT,
                     f"{RUNNABLE} torchscript"]
    extra = {META_FILE: ""}
    ts = torch.jit.load(str(tmp_path / TORCHSCRIPT_PT), _extra_files=extra)
    meta = json.loads(extra[META_FILE])
    assert meta["how"] == "script" and meta["outputs"] == ["prob"]
    assert meta["inputs"] == [n.name for n in g.inputs]
    with torch.no_grad():
        close(ts(*[torch.from_numpy(v) for v in x.values()]).numpy(), ref)
    assert not [t for t in threading.enumerate() if t.name == "torchscript"]

    def sent(artifacts):
        d = tmp_path / artifacts
        d.mkdir()
        return [i[0] if isinstance(i, tuple) else i.stage
                for i in BACKEND.from_ir(g, w, {"artifacts": artifacts}, str(d))
                if isinstance(i, tuple) or i.stage == RUNNABLE]

    assert sent("code") == [MODEL_PY, WEIGHTS_PTH, RUNNABLE]
    assert sent("model") == [WEIGHTS_PTH, TORCHSCRIPT_PT, RUNNABLE]


def test_from_ir_stopped_early_waits_for_the_compile(tmp_path, monkeypatch):
    """A FromIR stopped after weights.pth (the caller went away) does not return while the
    TorchScript compile still writes into its folder (which is deleted next)."""
    import threading
    import time

    from nnrosetta_backend_pytorch import service

    done = threading.Event()
    real = service.write_torchscript

    def slow(*args):
        time.sleep(0.5)
        out = real(*args)
        done.set()
        return out

    monkeypatch.setattr(service, "write_torchscript", slow)
    g, w = CASES["caffe_like"]()
    gen = BACKEND.from_ir(g, w, {}, str(tmp_path))
    for item in gen:
        if isinstance(item, tuple) and item[0] == WEIGHTS_PTH:
            break
    gen.close()
    assert done.is_set() and (tmp_path / TORCHSCRIPT_PT).is_file()


def test_from_ir_torchscript_failure_is_reported(tmp_path, monkeypatch):
    from nnrosetta_backend_pytorch import service

    def fail(*args):
        raise ConversionError(grpc.StatusCode.INTERNAL, "TorchScript failed: boom",
                              reason="TORCHSCRIPT")

    monkeypatch.setattr(service, "write_torchscript", fail)
    g, w = CASES["caffe_like"]()
    with pytest.raises(ConversionError) as e:
        list(BACKEND.from_ir(g, w, {}, str(tmp_path)))
    assert "boom" in e.value.message
