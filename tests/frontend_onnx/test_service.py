"""Constant folding, every unsupported op listed at once, bad files, external data, input
shapes, and the real service over gRPC (Describe, Check, ToIR, Run with intermediate
tensors)."""

from __future__ import annotations

import importlib

import grpc
import numpy as np
import onnx
import pytest
from onnx import helper

from nnrosetta import wire
from nnrosetta.ir import registry
from nnrosetta.ir.graph import Graph
from nnrosetta.proto import converter_pb2 as pb
from nnrosetta.proto import converter_pb2_grpc as pb_grpc
from nnrosetta.rpc.converter import model_chunks, serve
from nnrosetta.rpc.errors import ConversionError, issues_from_rpc_error
from nnrosetta_frontend_onnx import OnnxConverter
from tests.frontend_onnx._models import (
    check_against_ort,
    init,
    make,
    model_for,
    ort_run,
    rng,
    save,
    to_ir,
)

H = helper.make_node
r = rng(11)
X4 = [1, 4, 6, 6]


def _shape_subgraph_model(opset: int = 13) -> onnx.ModelProto:
    """PyTorch's exported flatten: Shape -> Gather -> Unsqueeze -> Concat -> Reshape, plus a
    ConstantOfShape / Range / Cast chain that only computes constants."""
    nodes = [
        H("Conv", ["x", "w"], ["c"], name="conv"),
        H("Shape", ["c"], ["sh"]),
        H("Gather", ["sh", "zero"], ["n"], axis=0),
        H("Unsqueeze", ["n", "ax0"], ["n1"]) if opset >= 13 else
        H("Unsqueeze", ["n"], ["n1"], axes=[0]),   # attribute form: folded at its own opset
        H("Concat", ["n1", "minus1"], ["target"], axis=0),
        H("Reshape", ["c", "target"], ["flat"], name="flatten"),
        H("Constant", [], ["three"], value=helper.make_tensor("v", 7, [1], [3])),
        H("ConstantOfShape", ["three"], ["ones"],
          value=helper.make_tensor("o", 1, [1], [1.0])),
        H("Range", ["r0", "r3", "r1"], ["rng"]),
        H("Cast", ["rng"], ["rngf"], to=1),
        H("Add", ["ones", "rngf"], ["bias3"]),
        H("MatMul", ["flat", "wfc"], ["mm"]),
        H("Add", ["mm", "bias3"], ["y"], name="bias_add"),
    ]
    inits = [init("w", r(2, 4, 3, 3)), init("zero", np.array(0, np.int64)),
             init("ax0", np.array([0], np.int64)), init("minus1", np.array([-1], np.int64)),
             init("r0", np.array(0, np.int64)), init("r3", np.array(3, np.int64)),
             init("r1", np.array(1, np.int64)), init("wfc", r(32, 3))]
    return make(nodes, {"x": X4}, {"y": [1, 3]}, inits, opset)


@pytest.mark.parametrize("opset", [11, 13, 17])
def test_folding_shape_subgraphs(opset, tmp_path):
    g = check_against_ort(_shape_subgraph_model(opset), tmp_path)
    ops = [n.op for n in g.nodes]
    assert ops == ["Input", "Conv", "Reshape", "FullyConnected", "Constant", "Add"], ops
    assert g.node("flatten").attrs["shape"] == [1, -1]
    assert g.node("flatten").attrs["_source_name"] == "flat"
    # the folded constant [1, 2, 3] feeds the Add as an IR Constant
    const = [n for n in g.nodes if n.op == "Constant"][0]
    assert const.attrs["_source_name"] == "bias3"


def test_shape_of_free_batch_uses_static_shape(tmp_path):
    g0 = helper.make_graph(
        [H("Shape", ["x"], ["s"]), H("Reshape", ["x", "s"], ["y"])], "g",
        [helper.make_tensor_value_info("x", 1, ["N", 4, 6, 6])],
        [helper.make_tensor_value_info("y", 1, None)])
    m = helper.make_model(g0, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    graph, _ = to_ir(m, tmp_path, {"input_shape": "x:2,4,6,6"})
    assert graph.inputs[0].attrs["shape"] == [2, 4, 6, 6]
    assert graph.nodes[-1].attrs["shape"] == [2, 4, 6, 6]
    graph, _ = to_ir(m, tmp_path / "b")
    assert graph.inputs[0].attrs["shape"] == [1, 4, 6, 6]


def test_every_unsupported_op_listed_at_once(tmp_path):
    nodes = [
        H("Relu", ["x"], ["a"], name="ok"),
        H("NonZero", ["a"], ["nz"], name="nonzero1"),
        H("Cast", ["nz"], ["nzf"], to=1, name="cast1"),
        H("Foo", ["a"], ["b"], name="custom1", domain="com.example"),
        H("Det", ["x"], ["d"], name="det1"),
        H("LRN", ["x"], ["l"], size=4, name="lrn_even"),
        H("Where", ["cond", "a", "x"], ["w"], name="where1"),
    ]
    g0 = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", 1, [1, 4, 4, 4]),
                     helper.make_tensor_value_info("cond", 9, [1, 4, 4, 4])],
        [helper.make_tensor_value_info(n, 1, None) for n in ("nzf", "b", "d", "l", "w")])
    m = helper.make_model(g0, opset_imports=[helper.make_opsetid("", 15),
                                             helper.make_opsetid("com.example", 1)])
    m.ir_version = 8
    issues, graph = OnnxConverter().check(model_for(save(m, tmp_path)))
    assert graph is None
    by_loc = {i.location: i for i in issues}
    for name in ("nonzero1", "custom1", "det1", "lrn_even"):
        assert name in by_loc, [str(i) for i in issues]
    assert "opset 15" in by_loc["nonzero1"].message and "NonZero" in by_loc["nonzero1"].message
    assert "com.example" in by_loc["custom1"].message
    assert by_loc["lrn_even"].code == "UNSUPPORTED_ATTRIBUTE"
    assert "cond" in by_loc and by_loc["cond"].code == "UNSUPPORTED_INPUT"
    assert "cast1" not in by_loc      # downstream of a failed node: reported once
    with pytest.raises(ConversionError) as e:
        to_ir(m, tmp_path)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert len(e.value.issues) == len(issues)


def test_unsupported_opset_and_bad_files(tmp_path):
    m = make([H("Relu", ["x"], ["y"])], {"x": [1, 2]}, {"y": [1, 2]}, opset=5, ir_version=3)
    issues, _ = OnnxConverter().check(model_for(save(m, tmp_path / "old")))
    assert [i.code for i in issues] == ["UNSUPPORTED_OPSET"]

    good = _shape_subgraph_model().SerializeToString()
    for name, data in [("garbage.onnx", b"\xff\xfe this is not protobuf \x00\x01" * 50),
                       ("text.onnx", b"name: 'not a model'\n"),
                       ("empty.onnx", b""),
                       ("truncated.onnx", good[: len(good) // 2])]:
        p = tmp_path / name
        p.write_bytes(data)
        issues, graph = OnnxConverter().check(model_for(p))
        assert graph is None and issues, name
        assert issues[0].code in ("NOT_ONNX", "INVALID_MODEL", "BAD_INPUT"), (name, issues)
        with pytest.raises(ConversionError) as e:
            list(OnnxConverter().to_ir(model_for(p)))
        assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert name in str(e.value) or "model.onnx" in str(e.value) or issues, name


def test_truncated_protobuf_names_the_file(tmp_path):
    good = _shape_subgraph_model().SerializeToString()
    p = tmp_path / "cut.onnx"
    p.write_bytes(good[:-7])
    issues, _ = OnnxConverter().check(model_for(p))
    assert issues and "cut.onnx" in issues[0].message


def test_external_data_only_from_sent_files(tmp_path):
    m = _shape_subgraph_model()
    d = tmp_path / "ext"
    d.mkdir()
    ext = onnx.ModelProto()
    ext.CopyFrom(m)       # save_model moves the data out of the proto it is given
    onnx.save_model(ext, str(d / "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=200)
    data = d / "model.onnx.data"
    # without the data file: a clear MISSING_FILE issue, never a read of the model's path
    issues, _ = OnnxConverter().check(model_for(d / "model.onnx"))
    assert [i.code for i in issues] == ["MISSING_FILE"] and "model.onnx.data" in \
        issues[0].message
    # with it: converts, and Run reads the same file
    mf = model_for(d / "model.onnx", {"model.onnx.data": data})
    issues, graph = OnnxConverter().check(mf)
    assert not issues and graph is not None
    x = r(*X4)
    outs, info = OnnxConverter().run(mf, {"x": x}, ["y", "c"])
    ref = ort_run(m, {"x": x})
    assert np.allclose(outs[0][1], ref["y"], rtol=1e-5, atol=1e-6)
    assert outs[1][0] == "c" and outs[1][1].shape == (1, 2, 4, 4)
    # a truncated data file
    cut = tmp_path / "cut" / "model.onnx.data"
    cut.parent.mkdir()
    cut.write_bytes(data.read_bytes()[:100])
    issues, _ = OnnxConverter().check(model_for(d / "model.onnx", {"model.onnx.data": cut}))
    assert issues and issues[0].code == "TRUNCATED"
    # a location outside the sent files is refused
    m2 = onnx.load(str(d / "model.onnx"), load_external_data=False)
    for t in m2.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = "../../etc/passwd"
    p2 = save(m2, tmp_path / "evil")
    issues, _ = OnnxConverter().check(model_for(p2, {"passwd": data}))
    assert issues and all(i.code == "BAD_EXTERNAL_DATA" for i in issues)


def test_run_fetches_intermediate_and_names_map(tmp_path):
    nodes = [H("Conv", ["in:0", "w"], ["conv:0"], name="c"), H("Relu", ["conv:0"], ["y"])]
    m = make(nodes, {"in:0": X4}, {"y": [1, 2, 4, 4]}, [init("w", r(2, 4, 3, 3))], 13)
    p = save(m, tmp_path)
    graph, _ = to_ir(m, tmp_path / "t")
    assert graph.inputs[0].name == "in_0"             # ':' would read as an output index
    assert graph.node("c").attrs["_source_name"] == "conv:0"
    x = r(*X4)
    outs, info = OnnxConverter().run(model_for(p), {"in_0": x}, ["conv:0", "y", "w"])
    assert [n for n, _ in outs] == ["conv:0", "y", "w"]
    assert np.array_equal(np.maximum(outs[0][1], 0), outs[1][1])
    assert info["runtime"].startswith("onnxruntime ")
    with pytest.raises(ConversionError) as e:
        OnnxConverter().run(model_for(p), {"in_0": x}, ["nope"])
    assert e.value.issues[0].code == "UNKNOWN_TENSOR"


def test_describe():
    d = OnnxConverter().describe()
    assert d["framework"] == "onnx" and d["framework_version"] == onnx.__version__
    assert d["reads"] == ["onnx"] and d["writes"] == ["ir"]
    assert d["runtime"].startswith("onnxruntime ")
    assert {"onnx", "onnxruntime", "numpy", "protobuf"} <= set(d["versions"])
    for op in ("Conv", "Gemm", "BatchNormalization", "Softmax", "Reshape", "Shape"):
        assert op in d["ops_supported"]


@pytest.fixture(scope="module")
def stub():
    svc = serve(OnnxConverter(), port=0)
    assert svc.ready.wait(60)
    ch = grpc.insecure_channel(svc.address)
    yield pb_grpc.ConverterStub(ch)
    ch.close()
    svc.stop(0)


def test_service_over_grpc(stub, tmp_path):
    d = stub.Describe(pb.DescribeRequest())
    assert d.name == "frontend-onnx" and list(d.reads) == ["onnx"]
    m = _shape_subgraph_model()
    p = save(m, tmp_path)
    resp = stub.Check(model_chunks("onnx", {"network": str(p)}))
    assert resp.ok and len(resp.graph.node) == 6

    graph, tensors = None, wire.TensorAssembler()
    for c in stub.ToIR(model_chunks("onnx", {"network": str(p)})):
        kind = c.WhichOneof("payload")
        if kind == "graph":
            graph = Graph.from_proto(c.graph)
        elif kind == "tensor":
            tensors.add(c.tensor)
    assert graph is not None and set(tensors.done) == set(graph.tensors)
    x = r(*X4)
    got = registry.run_reference(graph, tensors.done, {"x": x})
    ref = ort_run(m, {"x": x})
    assert np.allclose(got[graph.outputs[0]], ref["y"], rtol=1e-4, atol=1e-5)

    def run_req():
        yield pb.RunChunk(header=pb.RunHeader(model=pb.ModelHeader(
            format="onnx", files={"network": p.name}), fetch=["flat", "y"]))
        for c in wire.path_chunks(p.name, str(p)):
            yield pb.RunChunk(file=c)
        for c in wire.tensor_chunks("x", x):
            yield pb.RunChunk(tensor=c)

    outs = wire.TensorAssembler()
    for c in stub.Run(run_req()):
        if c.WhichOneof("payload") == "tensor":
            outs.add(c.tensor)
    assert outs.done["flat"].shape == (1, 32)
    assert np.allclose(outs.done["y"], ref["y"])

    # a bad request answers with every issue, and the service still answers afterwards
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx at all" * 10)
    with pytest.raises(grpc.RpcError) as e:
        list(stub.ToIR(model_chunks("onnx", {"network": str(bad)})))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    reason, issues = issues_from_rpc_error(e.value)
    assert issues and issues[0].code == "NOT_ONNX"
    assert stub.Check(model_chunks("onnx", {"network": str(p)})).ok


@pytest.mark.parametrize("opset", [11, 17])
def test_torch_exported_model(opset, tmp_path):
    """What a real exporter writes: a dynamic batch, Shape/Gather/Unsqueeze/Concat for
    ``x.view(x.size(0), -1)``, Constant nodes, decomposed LayerNorm at opset 11."""
    import io

    torch = importlib.import_module("torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.c = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.c2 = torch.nn.Conv2d(8, 8, 3, stride=2, groups=2)
            self.fc = torch.nn.Linear(8 * 3 * 3, 5)
            self.ln = torch.nn.LayerNorm(5)

        def forward(self, x):
            y = torch.nn.functional.relu6(self.c(x))
            y = torch.nn.functional.hardswish(self.c2(y))
            y = torch.nn.functional.avg_pool2d(y, 2, ceil_mode=True)
            y = self.ln(self.fc(y.view(y.size(0), -1)))
            return torch.nn.functional.log_softmax(y * 2 - 1, dim=-1)

    torch.manual_seed(0)
    f = io.BytesIO()
    torch.onnx.export(Net().eval(), torch.randn(1, 3, 12, 12), f, dynamo=False,
                      opset_version=opset, input_names=["x"], output_names=["out"],
                      dynamic_axes={"x": {0: "batch"}})
    m = onnx.load_from_string(f.getvalue())
    assert "Shape" in {n.op_type for n in m.graph.node}
    g = check_against_ort(m, tmp_path)
    assert "Shape" not in {n.attrs.get("_source_op") for n in g.nodes}
    assert g.inputs[0].attrs["shape"] == [1, 3, 12, 12]
