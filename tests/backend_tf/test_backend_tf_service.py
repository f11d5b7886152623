"""backend-tf Describe and Check (every problem at once), and the real service over gRPC:
FromIR streams the files, Run takes them back (as the gateway sends them: by name, in chunks),
an unsupported graph is refused with every node listed, and the service keeps serving."""

from __future__ import annotations

import grpc
import keras
import pytest
import tensorflow as tf

from nnrosetta import wire
from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta.proto import converter_pb2 as pb
from nnrosetta.proto import converter_pb2_grpc as pb_grpc
from nnrosetta.rpc.converter import Model, model_chunks, serve
from nnrosetta.rpc.errors import ConversionError, issues_from_rpc_error
from nnrosetta_backend_tf import TensorFlowBackend
from nnrosetta_backend_tf.service import MODEL_KERAS, MODEL_PY, WEIGHTS_H5

from ._cases import CASES, close, feeds, graph, inp


def unsupported_graph():
    nodes = [inp(), Node("hm", "Hardmax", ["data"]),
             Node("rs", "Resize", ["hm"], {"mode": "cubic", "scales": [1.0, 1.0, 2.0, 2.0]}),
             Node("wrap", "Pad", ["rs"], {"pads": [0, 0, 1, 1, 0, 0, 1, 1], "mode": "wrap"}),
             Node("bad1", "Frobnicate", ["wrap"]), Node("bad2", "Gizmo", ["bad1"])]
    return graph(nodes, {})


UNSUPPORTED = ["hm", "rs", "wrap", "bad1", "bad2"]


def test_describe(backend):
    d = backend.describe()
    assert d["framework"] == "tensorflow" and d["framework_version"] == tf.__version__
    assert d["reads"] == ["ir"] and d["writes"] == ["keras", "tensorflow"]
    assert d["runtime"] == f"TensorFlow {tf.__version__} (Keras {keras.__version__})"
    assert {"tensorflow", "keras", "numpy", "protobuf", "h5py"} <= set(d["versions"])
    assert {"Conv", "LRN", "Pool", "BatchNorm", "FullyConnected"} <= set(d["ops_supported"])
    assert all(registry.has(op) for op in d["ops_supported"])


def test_check_lists_every_problem_at_once(backend, tmp_path):
    g, w = unsupported_graph()
    issues, _ = backend.check(Model(format="ir", graph=g))
    assert [i.location for i in issues] == UNSUPPORTED
    assert all(i.code == "UNSUPPORTED_OP" for i in issues)
    assert "cubic" in issues[1].message and "wrap" in issues[2].message
    with pytest.raises(ConversionError) as ei:
        list(backend.from_ir(g, w, {}, str(tmp_path)))
    assert ei.value.code == grpc.StatusCode.UNIMPLEMENTED
    assert [i.location for i in ei.value.issues] == UNSUPPORTED
    assert backend.check(Model(format="keras"))[0][0].code == "BAD_FORMAT"
    assert backend.check(Model(format="ir"))[0][0].code == "MISSING_FILE"


def test_weights_computed_at_run_time_are_refused(backend):
    nodes = [inp(), inp("w", [4, 3, 3, 3]),
             Node("c", "Conv", ["data", "w"], {"kernel_shape": [3, 3]})]
    g, _ = graph(nodes, {})
    issues, _ = backend.check(Model(format="ir", graph=g))
    assert [i.location for i in issues] == ["c"] and "run time" in issues[0].message


# -- the real service over gRPC ----------------------------------------------------------------

@pytest.fixture(scope="module")
def stub(backend):
    svc = serve(TensorFlowBackend(), port=0)
    assert svc.ready.wait(120)
    ch = grpc.insecure_channel(svc.address)
    try:
        yield pb_grpc.ConverterStub(ch)
    finally:
        ch.close()
        svc.stop(0)


def ir_stream(g, w, options=None):
    yield pb.IRChunk(header=pb.ModelHeader(format="ir", options=options or {}))
    yield pb.IRChunk(graph=g.to_proto())
    for name, arr in w.items():
        for c in wire.tensor_chunks(name, arr):
            yield pb.IRChunk(tensor=c)


def run_request(fmt, files, x, fetch, graph_=None, weights=None):
    yield pb.RunChunk(header=pb.RunHeader(model=pb.ModelHeader(
        format=fmt, files={n: n for n in files}), fetch=fetch))
    for name, path in files.items():
        for c in wire.path_chunks(name, path):
            yield pb.RunChunk(file=c)
    if graph_ is not None:
        yield pb.RunChunk(graph=graph_.to_proto())
    for name, arr in {**(weights or {}), **x}.items():
        for c in wire.tensor_chunks(name, arr):
            yield pb.RunChunk(tensor=c)


def collect_run(stub, request):
    tensors, header = wire.TensorAssembler(), None
    for c in stub.Run(request):
        if c.WhichOneof("payload") == "tensor":
            tensors.add(c.tensor)
        else:
            header = c.header
    return [(n, tensors.done[n]) for n in header.output_names], dict(header.info)


def test_grpc_from_ir_and_run(stub, tmp_path):
    d = stub.Describe(pb.DescribeRequest())
    assert d.name == "backend-tf" and d.framework == "tensorflow"
    assert list(d.writes) == ["keras", "tensorflow"]
    g, w = CASES["caffe_like"]()
    files = wire.FileAssembler(folder=str(tmp_path))
    stages = []
    for c in stub.FromIR(ir_stream(g, w, {"artifacts": "all"})):
        if c.WhichOneof("payload") == "file":
            files.add(c.file)
        else:
            stages.append(c.progress.stage)
    assert {MODEL_PY, WEIGHTS_H5, MODEL_KERAS, "saved_model/saved_model.pb",
            "saved_model/variables/variables.index"} <= set(files.names())
    assert stages[0] == "codegen" and "savedmodel" in stages

    x = feeds(g)
    ref = registry.run_reference(g, w, x, ["prob", "pool1/norm1"])
    sent = {n: files.paths[n] for n in files.names()}
    for fmt, mode in (("keras", "keras"), ("tensorflow", "savedmodel")):
        outs, info = collect_run(stub, run_request(fmt, sent, x, []))
        assert info["mode"] == mode and [n for n, _ in outs] == ["prob"]
        close(outs[0][1], ref["prob"])
    outs, info = collect_run(stub, run_request("ir", {}, x, ["pool1/norm1", "prob"], g, w))
    assert info["mode"] == "ir"
    for n, v in outs:
        close(v, ref[n])


def test_grpc_unsupported_ops_then_still_serving(stub, tmp_path):
    g, w = unsupported_graph()
    path = tmp_path / "graph.pb"
    path.write_bytes(g.to_proto().SerializeToString())
    resp = stub.Check(model_chunks("ir", {"network": str(path)}))
    assert not resp.ok and [i.location for i in resp.issues] == UNSUPPORTED
    with pytest.raises(grpc.RpcError) as ei:
        list(stub.FromIR(ir_stream(g, w)))
    assert ei.value.code() == grpc.StatusCode.UNIMPLEMENTED
    reason, issues = issues_from_rpc_error(ei.value)
    assert reason == "UNSUPPORTED_OP"
    assert [i.location for i in issues] == UNSUPPORTED
    assert stub.Describe(pb.DescribeRequest()).name == "backend-tf"
