"""Every service — gateway included — answers the standard gRPC health service and server
reflection, so grpcurl (or any gRPC tool) can list and call it without our protos."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc


def _list_services(address: str) -> set[str]:
    with grpc.insecure_channel(address) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        req = reflection_pb2.ServerReflectionRequest(list_services="")
        resp = next(iter(stub.ServerReflectionInfo(iter([req]), timeout=10)))
        return {s.name for s in resp.list_services_response.service}


def _file_for(address: str, symbol: str) -> bytes:
    with grpc.insecure_channel(address) as ch:
        stub = reflection_pb2_grpc.ServerReflectionStub(ch)
        req = reflection_pb2.ServerReflectionRequest(file_containing_symbol=symbol)
        resp = next(iter(stub.ServerReflectionInfo(iter([req]), timeout=10)))
        return b"".join(resp.file_descriptor_response.file_descriptor_proto)


@pytest.mark.integration
def test_every_service_serves_health_and_reflection(stack):
    addresses = stack.addresses
    assert {"gateway", "frontend-caffe", "backend-pytorch"} <= set(addresses)
    for name, address in addresses.items():
        services = _list_services(address)
        main = "nnrosetta.gateway.v1.Gateway" if name == "gateway" else \
            "nnrosetta.converter.v1.Converter"
        assert {main, "grpc.health.v1.Health",
                "grpc.reflection.v1alpha.ServerReflection"} <= services, (name, services)
        assert _file_for(address, main), name   # descriptors for grpcurl to call with
        with grpc.insecure_channel(address) as ch:
            h = health_pb2_grpc.HealthStub(ch)
            for svc in ("", main):
                st = h.Check(health_pb2.HealthCheckRequest(service=svc), timeout=5).status
                assert st == health_pb2.HealthCheckResponse.SERVING, (name, svc)
