"""backend-onnx Check, FromIR options, Run (onnx files, IR with fetch, kept model) and the real
gRPC service."""

from __future__ import annotations

import os

import grpc
import onnx
import pytest

from nnrosetta import wire
from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta.proto import converter_pb2 as pb
from nnrosetta.proto import converter_pb2_grpc as pb_grpc
from nnrosetta.rpc.converter import Model, serve
from nnrosetta.rpc.errors import ConversionError, issues_from_rpc_error
from nnrosetta_backend_onnx import build
from nnrosetta_backend_onnx.service import MODEL_DATA, MODEL_ONNX, MODEL_TXT, OnnxBackend

from ._cases import CASES, feeds, graph, inp
from .test_backend_onnx_emitters import close, convert

BACKEND = OnnxBackend()


def ir_model(g, **options) -> Model:
    return Model(format="ir", graph=g, options={k: str(v) for k, v in options.items()})


def test_describe():
    d = BACKEND.describe()
    assert d["framework"] == "onnx" and d["framework_version"] == onnx.__version__
    assert d["reads"] == ["ir"] and d["writes"] == ["onnx"]
    assert d["runtime"].startswith("onnxruntime ")
    assert "Conv" in d["ops_supported"] and "onnxruntime" in d["versions"]


def test_check_lists_every_problem_at_once():
    nodes = [inp(), Node("bad1", "Frobnicate", ["data"]), Node("r", "Relu", ["bad1"]),
             Node("wrap", "Pad", ["r"], {"pads": [0, 0, 1, 1, 0, 0, 1, 1], "mode": "wrap"}),
             Node("bad2", "Gizmo", ["wrap"])]
    g, _ = graph(nodes, {})
    issues, _ = BACKEND.check(ir_model(g, opset=13))
    assert [i.location for i in issues] == ["bad1", "wrap", "bad2"]
    assert all(i.code == "UNSUPPORTED_OP" for i in issues)
    assert "opset 13" in issues[1].message and "19" in issues[1].message
    issues, _ = BACKEND.check(ir_model(g, opset=19))
    assert [i.location for i in issues] == ["bad1", "bad2"]
    with pytest.raises(ConversionError) as ei:
        list(BACKEND.from_ir(g, {}, {"opset": "13"}, "/nonexistent"))
    assert [i.location for i in ei.value.issues] == ["bad1", "wrap", "bad2"]


@pytest.mark.parametrize("opset", ["12", str(build.max_opset() + 1), "x"])
def test_bad_opset(opset):
    g, w = CASES["relu"]()
    issues, _ = BACKEND.check(ir_model(g, opset=opset))
    assert [i.code for i in issues] == ["BAD_OPTION"]
    with pytest.raises(ConversionError, match="opset"):
        list(BACKEND.from_ir(g, w, {"opset": opset}, "/nonexistent"))


def test_check_other_format():
    issues, _ = BACKEND.check(Model(format="onnx"))
    assert issues[0].code == "BAD_FORMAT"


def test_external_data_always(tmp_path):
    g, w = CASES["caffe_like"]()
    files = convert(g, w, tmp_path, external_data="always")
    assert set(files) == {MODEL_ONNX, MODEL_DATA, MODEL_TXT}
    m = onnx.load(files[MODEL_ONNX], load_external_data=False)
    ext = [t.name for t in m.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL]
    assert "inception_3a_3x3.weight" in ext      # (tensors under 1 KiB stay inline)
    onnx.checker.check_model(files[MODEL_ONNX], full_check=True)
    x = feeds(g)
    ref = registry.run_reference(g, w, x)["prob"]
    # by name, from the folder they were written to
    outs, _ = BACKEND.run(Model(format="onnx", files=files, workdir=str(tmp_path)), x, [])
    close(outs[0][1], ref)
    # by role, received into another folder under other names: placed side by side again
    other = tmp_path / "received"
    other.mkdir()
    os.rename(files[MODEL_ONNX], other / "upload-1")
    os.rename(files[MODEL_DATA], other / "upload-2")
    model = Model(format="onnx", files={"network": str(other / "upload-1"),
                                        MODEL_DATA: str(other / "upload-2")},
                  workdir=str(tmp_path))
    outs, _ = BACKEND.run(model, x, ["pool1/norm1"])
    close(outs[0][1], registry.run_reference(g, w, x, ["pool1/norm1"])["pool1/norm1"])


def test_run_onnx_fetch_intermediates_and_errors(tmp_path):
    g, w = CASES["split"]()
    files = convert(g, w, tmp_path)
    x = feeds(g)
    ref = registry.run_reference(g, w, x, ["sp", "sp:1", "t", "r"])
    model = Model(format="onnx", files=files, workdir=str(tmp_path))
    outs, _ = BACKEND.run(model, x, [])
    assert [k for k, _ in outs] == ["r", "t"]
    outs, _ = BACKEND.run(model, x, ["sp:1", "t", "sp"])
    assert [k for k, _ in outs] == ["sp:1", "t", "sp"]
    for k, v in outs:
        close(v, ref[k])
    with pytest.raises(ConversionError, match="no such value"):
        BACKEND.run(model, x, ["nope"])
    with pytest.raises(ConversionError, match="not fed"):
        BACKEND.run(model, {}, [])


def test_run_ir_fetch_intermediates(tmp_path):
    g, w = CASES["caffe_like"]()
    x = feeds(g)
    fetch = ["conv1/7x7_s2", "pool1/norm1", "inception_3a/output", "loss3/classifier", "data",
             "prob"]
    ref = registry.run_reference(g, w, x, fetch)
    model = Model(format="ir", graph=g, weights=w, workdir=str(tmp_path))
    outs, info = BACKEND.run(model, x, fetch)
    assert info["mode"] == "ir"
    assert [k for k, _ in outs] == fetch
    for k, v in outs:
        close(v, ref[k])
    outs, _ = BACKEND.run(model, x, [])
    assert [k for k, _ in outs] == ["prob"]
    with pytest.raises(ConversionError, match="no such IR node"):
        BACKEND.run(model, x, ["nope"])


def test_run_ir_from_kept_model_without_weights(tmp_path):
    """The gateway's case: format "ir", use_kept, no IR weights sent; the kept files (what
    FromIR wrote) hold the weights."""
    g, w = CASES["caffe_like"]()
    x = feeds(g)
    fetch = ["loss3/classifier", "bn"]
    ref = registry.run_reference(g, w, x, fetch)
    for ext in ("auto", "always"):
        out = tmp_path / ext
        files = convert(g, w, out, external_data=ext)
        model = Model(format="ir", graph=g, weights={}, files=files, workdir=str(tmp_path))
        outs, info = BACKEND.run(model, x, fetch)
        assert info["mode"] == "ir-kept-onnx"
        for k, v in outs:
            close(v, ref[k])
    model = Model(format="ir", graph=g, weights={}, files={}, workdir=str(tmp_path))
    with pytest.raises(ConversionError, match="model.onnx this service wrote"):
        BACKEND.run(model, x, fetch)


# -- the real service over gRPC ----------------------------------------------------------------

@pytest.fixture(scope="module")
def channel():
    svc = serve(OnnxBackend(), port=0)
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
    assert d.name == "backend-onnx" and d.framework == "onnx" and list(d.writes) == ["onnx"]

    g, w = CASES["caffe_like"]()
    files = wire.FileAssembler(folder=str(tmp_path))
    stages = []
    for c in stub.FromIR(ir_stream(g, w, {"opset": "13"})):
        if c.WhichOneof("payload") == "file":
            files.add(c.file)
        else:
            stages.append(c.progress.stage)
    assert set(files.names()) == {MODEL_ONNX, MODEL_TXT}
    assert stages[0] == "build" and "check" in stages
    assert onnx.load(files.paths[MODEL_ONNX]).opset_import[0].version == 13

    x = feeds(g)
    ref = registry.run_reference(g, w, x, ["prob", "pool1/norm1"])

    def run_req(fetch):
        yield pb.RunChunk(header=pb.RunHeader(model=pb.ModelHeader(
            format="onnx", files={"network": MODEL_ONNX}), fetch=fetch))
        for c in wire.path_chunks(MODEL_ONNX, files.paths[MODEL_ONNX]):
            yield pb.RunChunk(file=c)
        for name, arr in x.items():
            for c in wire.tensor_chunks(name, arr):
                yield pb.RunChunk(tensor=c)

    for fetch in ([], ["pool1/norm1", "prob"]):
        tensors = wire.TensorAssembler()
        header = None
        for c in stub.Run(run_req(fetch)):
            if c.WhichOneof("payload") == "tensor":
                tensors.add(c.tensor)
            else:
                header = c.header
        assert list(header.output_names) == (fetch or ["prob"])
        assert header.info["mode"] == "onnx"
        for k in fetch or ["prob"]:
            close(tensors.done[k], ref[k])


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
    assert stub.Describe(pb.DescribeRequest()).name == "backend-onnx"
