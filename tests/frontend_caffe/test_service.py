"""The real service over a real gRPC channel: Describe, Check, ToIR, Run, and still answering
after a bad request."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from nnrosetta import wire  # noqa: E402
from nnrosetta.ir.graph import Graph  # noqa: E402
from nnrosetta.proto import converter_pb2 as pb  # noqa: E402
from nnrosetta.proto import converter_pb2_grpc as pb_grpc  # noqa: E402
from nnrosetta.rpc.converter import model_chunks, serve  # noqa: E402
from nnrosetta.rpc.errors import issues_from_rpc_error  # noqa: E402
from nnrosetta_frontend_caffe import CaffeConverter  # noqa: E402
from tests.frontend_caffe._nets import rng_blobs, write_model

r = rng_blobs(9)
NET = """name: "s"
input: "data"
input_shape { dim: 1 dim: 3 dim: 6 dim: 6 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "fc" type: "InnerProduct" bottom: "conv1" top: "fc"
  inner_product_param { num_output: 3 } }
"""
BLOBS = {"conv1": [r(4, 3, 3, 3), r(4)], "fc": [r(3, 64), r(3)]}


@pytest.fixture(scope="module")
def stub():
    svc = serve(CaffeConverter(), port=0)
    assert svc.ready.wait(30)
    ch = grpc.insecure_channel(svc.address)
    yield pb_grpc.ConverterStub(ch)
    ch.close()
    svc.stop(0)


def test_describe(stub):
    d = stub.Describe(pb.DescribeRequest())
    assert d.name == "frontend-caffe" and list(d.reads) == ["caffe"] and list(d.writes) == ["ir"]
    assert "Convolution" in d.ops_supported and d.runtime.startswith("opencv-dnn")


def test_check_toir_run_and_recovery(stub, tmp_path):
    proto, model = write_model(tmp_path, NET, BLOBS)
    files = {"network": str(proto), "weights": str(model)}
    resp = stub.Check(model_chunks("caffe", files))
    assert resp.ok and not resp.issues and len(resp.graph.node) == 4

    # a bad request: unknown layer types -> UNIMPLEMENTED with every issue
    bad = tmp_path / "bad"
    bproto, bmodel = write_model(bad, NET + """
layer { name: "x1" type: "Foo" bottom: "fc" top: "x1" }
layer { name: "x2" type: "Bar" bottom: "fc" top: "x2" }
""", BLOBS)
    with pytest.raises(grpc.RpcError) as e:
        list(stub.ToIR(model_chunks("caffe", {"network": str(bproto), "weights": str(bmodel)})))
    assert e.value.code() == grpc.StatusCode.UNIMPLEMENTED
    _, issues = issues_from_rpc_error(e.value)
    assert {(i.code, i.location) for i in issues} == {("UNSUPPORTED_LAYER", "x1"),
                                                     ("UNSUPPORTED_LAYER", "x2")}
    check = stub.Check(model_chunks("caffe", {"network": str(bproto)}))
    assert not check.ok and len(check.issues) == 2

    # the service still answers: ToIR of the good model
    graph, tensors, progress = None, wire.TensorAssembler(), []
    for c in stub.ToIR(model_chunks("caffe", files)):
        kind = c.WhichOneof("payload")
        if kind == "graph":
            graph = Graph.from_proto(c.graph)
        elif kind == "tensor":
            tensors.add(c.tensor)
        elif kind == "progress":
            progress.append(c.progress)
    assert graph is not None and graph.outputs == ["fc"]
    np.testing.assert_array_equal(tensors.done["fc.weight"], BLOBS["fc"][0])
    assert {p.stage for p in progress} >= {"parse", "weights"}

    # Run on OpenCV, fed by input blob name, fetch by Caffe layer name
    x = np.random.default_rng(0).standard_normal((1, 3, 6, 6)).astype(np.float32)

    def run_chunks():
        yield pb.RunChunk(header=pb.RunHeader(
            model=pb.ModelHeader(format="caffe", files={"network": proto.name,
                                                        "weights": model.name}),
            fetch=["conv1", "fc"]))
        for p in files.values():
            for c in wire.path_chunks(p.split("/")[-1], p):
                yield pb.RunChunk(file=c)
        for c in wire.tensor_chunks("data", x):
            yield pb.RunChunk(tensor=c)

    outs = wire.TensorAssembler()
    header = None
    for c in stub.Run(run_chunks()):
        if c.WhichOneof("payload") == "tensor":
            outs.add(c.tensor)
        else:
            header = c.header
    assert list(header.output_names) == ["conv1", "fc"]
    assert outs.done["fc"].shape == (1, 3) and outs.done["conv1"].shape == (1, 4, 4, 4)
