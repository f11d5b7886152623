"""Same-host transport across the real services: when only some services share the gateway's
folder, the others get bytes, and the result is the same verified conversion. A converter
refuses a file reference that points outside its own shared folder, and keeps serving."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from nnrosetta.client import GatewayClient
from nnrosetta.proto import converter_pb2 as pb
from nnrosetta.proto import converter_pb2_grpc as pb_grpc
from nnrosetta.rpc.errors import issues_from_rpc_error
from nnrosetta.stack import LocalStack
from tests.zoo.build import build


@pytest.mark.integration
@pytest.mark.parametrize("alone, transports", [
    ("backend-pytorch", ["shared-folder", "grpc"]),   # frontend's references -> bytes
    ("frontend-caffe", ["grpc", "shared-folder"]),    # bytes in, references out
])
def test_mixed_sharing_converts_and_verifies(tmp_path, alone, transports):
    prototxt, caffemodel = build("lenet")
    source = {"network": Path(prototxt).as_uri(), "weights": Path(caffemodel).as_uri()}
    with LocalStack(tmp_path / "stack", start_timeout=180,
                    service_env={alone: {"NNROSETTA_SHARED_DIR": str(tmp_path / "other")}}) as st:
        with GatewayClient(st.gateway_address) as gw:
            res = gw.convert("caffe", source, "pytorch", (tmp_path / "out").as_uri())
        assert res.verified, res.report["verification"]
        assert [h["transport"] for h in res.report["hops"]] == transports
        assert {p.name for p in (tmp_path / "out").iterdir()} == {
            "model.py", "weights.pth", "model.torchscript.pt", "report.json"}

        # a reference to a file outside the converter's shared folder is refused
        secret = tmp_path / "secret.caffemodel"
        secret.write_bytes(caffemodel.read_bytes())
        fe = st.addresses["frontend-caffe"]
        with grpc.insecure_channel(fe) as ch:
            stub = pb_grpc.ConverterStub(ch)

            def reqs():
                yield pb.ModelChunk(header=pb.ModelHeader(
                    format="caffe", files={"network": prototxt.name,
                                           "weights": "secret.caffemodel"}))
                yield pb.ModelChunk(file=pb.FileChunk(name=prototxt.name, offset=0,
                                                      data=prototxt.read_bytes(), last=True))
                yield pb.ModelChunk(file=pb.FileChunk(name="secret.caffemodel",
                                                      path=str(secret), last=True))

            with pytest.raises(grpc.RpcError) as ei:
                list(stub.ToIR(reqs()))
            assert ei.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            reason, issues = issues_from_rpc_error(ei.value)
            assert reason == "BAD_CHUNK", (reason, issues)
            assert "shared folder" in ei.value.details()
            assert stub.Describe(pb.DescribeRequest(), timeout=10).name == "frontend-caffe"
