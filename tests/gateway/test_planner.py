"""The planner is a search over what converters say they read and write, not a fixed pair."""

import grpc
import pytest

from nnrosetta.proto import converter_pb2 as cpb
from nnrosetta.rpc.errors import ConversionError
from nnrosetta_gateway import planner
from nnrosetta_gateway.pool import ServiceEntry


def svc(name, framework, version, reads, writes):
    return name, ServiceEntry(name, cpb.DescribeResponse(
        name=name, framework=framework, framework_version=version, reads=reads, writes=writes))


SERVICES = dict([
    svc("frontend-caffe", "caffe", "1.0", ["caffe"], ["ir"]),
    svc("backend-pytorch", "pytorch", "2.13.0", ["ir"], ["pytorch"]),
    svc("frontend-tf-old", "tensorflow", "2.15.1", ["keras", "tensorflow"], ["ir"]),
    svc("frontend-tf", "tensorflow", "2.21.0", ["keras", "tensorflow"], ["ir"]),
    svc("backend-onnx", "onnx", "1.18.0", ["ir"], ["onnx"]),
])


@pytest.mark.parametrize("src,dst,hops", [
    ("caffe", "pytorch", [("frontend-caffe", "ToIR"), ("backend-pytorch", "FromIR")]),
    ("caffe", "ir", [("frontend-caffe", "ToIR")]),
    ("ir", "pytorch", [("backend-pytorch", "FromIR")]),
    ("keras", "onnx", [("frontend-tf", "ToIR"), ("backend-onnx", "FromIR")]),
    ("ir", "ir", []),
])
def test_plans_shortest_path(src, dst, hops):
    steps = planner.plan(SERVICES, src, dst)
    assert [(s.service, s.action) for s in steps] == hops


def test_version_constraint_picks_older_service():
    steps = planner.plan(SERVICES, "keras", "pytorch", {"tensorflow": "<2.16"})
    assert steps[0].service == "frontend-tf-old"


def test_multi_hop_through_another_format():
    # Only an onnx frontend reads onnx; pytorch is reached through IR again.
    services = dict([
        svc("frontend-onnx", "onnx", "1.18", ["onnx"], ["ir"]),
        svc("backend-onnx", "onnx", "1.18", ["ir"], ["onnx"]),
        svc("frontend-x", "x", "1", ["x"], ["ir"]),
    ])
    # x -> ir -> onnx: two hops, planned by search
    steps = planner.plan(services, "x", "onnx")
    assert [s.to_format for s in steps] == ["ir", "onnx"]


@pytest.mark.parametrize("src,dst,codes", [
    ("mxnet", "pytorch", {"NO_FRONTEND"}),
    ("caffe", "coreml", {"NO_BACKEND"}),
    ("mxnet", "coreml", {"NO_FRONTEND", "NO_BACKEND"}),
])
def test_no_plan_lists_every_reason(src, dst, codes):
    with pytest.raises(ConversionError) as e:
        planner.plan(SERVICES, src, dst)
    assert e.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert {i.code for i in e.value.issues} == codes


@pytest.mark.parametrize("version,constraint,ok", [
    ("2.15.1", "<2.16", True), ("2.21.0", "<2.16", False), ("2.21.0", ">=2.16,<3", True),
    ("1.0", "==1.0", True), ("2.13.0", "==2.13", True), ("2.13.0", "!=2.13", False),
])
def test_satisfies(version, constraint, ok):
    assert planner.satisfies(version, constraint) is ok
