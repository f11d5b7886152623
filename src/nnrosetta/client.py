"""The Python client: what the CLI is built on, and what users import.

    from nnrosetta.client import GatewayClient
    with GatewayClient("localhost:50051") as gw:
        result = gw.convert("caffe", {"network": "s3://models/net.prototxt",
                                      "weights": "s3://models/net.caffemodel"},
                            "pytorch", "s3://models/out/", on_event=print)
        print(result.verified, result.report["verification"]["outputs"])
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc

from nnrosetta.proto import gateway_pb2 as gpb
from nnrosetta.proto import gateway_pb2_grpc as gpb_grpc
from nnrosetta.rpc.errors import Issue, issues_from_rpc_error


@dataclass
class ConversionResult:
    outputs: list[str]
    report: dict[str, Any]
    verified: bool


@dataclass
class ConversionFailed(Exception):
    code: grpc.StatusCode
    message: str
    issues: list[Issue] = field(default_factory=list)
    reason: str = ""

    def __str__(self) -> str:
        lines = [f"{self.code.name}: {self.message}"]
        lines += [f"  - {i}" for i in self.issues]
        return "\n".join(lines)


def _failed(e: grpc.RpcError) -> ConversionFailed:
    reason, issues = issues_from_rpc_error(e)
    details = e.details() or ""
    return ConversionFailed(e.code(), details.split("\n  - ")[0], issues, reason)


class _TokenAuth(grpc.AuthMetadataPlugin):
    def __init__(self, token: str):
        self.token = token

    def __call__(self, context, callback):
        callback((("authorization", f"Bearer {self.token}"),), None)


class GatewayClient:
    def __init__(self, address: str, *, token: str | None = None,
                 credentials: grpc.ChannelCredentials | None = None):
        self.address = address
        if credentials is not None:
            if token:
                credentials = grpc.composite_channel_credentials(
                    credentials, grpc.metadata_call_credentials(_TokenAuth(token)))
            self.channel = grpc.secure_channel(address, credentials)
            self._metadata: tuple = ()
        else:
            self.channel = grpc.insecure_channel(address)
            self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self.stub = gpb_grpc.GatewayStub(self.channel)

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.channel.close()

    @staticmethod
    def request(source_format: str, source: Mapping[str, str], target_format: str,
                destination: str = "", *, options: Mapping[str, str] | None = None,
                verify: Mapping[str, Any] | None = None, overwrite: bool = False,
                constraints: Mapping[str, str] | None = None) -> gpb.ConvertRequest:
        v = dict(verify or {})
        return gpb.ConvertRequest(
            source_format=source_format, source=dict(source), target_format=target_format,
            destination=destination, options={k: str(x) for k, x in (options or {}).items()},
            verify=gpb.VerifyOptions(skip=bool(v.get("skip", False)),
                                     tolerance=float(v.get("tolerance", 0.0)),
                                     seed=int(v.get("seed", 0)),
                                     disable_locate=not v.get("locate", True)),
            constraints=dict(constraints or {}), overwrite=overwrite)

    def convert(self, source_format: str, source: Mapping[str, str], target_format: str,
                destination: str, *, options: Mapping[str, str] | None = None,
                verify: Mapping[str, Any] | None = None, overwrite: bool = False,
                constraints: Mapping[str, str] | None = None,
                on_event: Callable[[gpb.ConvertEvent], None] | None = None,
                timeout: float | None = None) -> ConversionResult:
        req = self.request(source_format, source, target_format, destination, options=options,
                           verify=verify, overwrite=overwrite, constraints=constraints)
        result = None
        try:
            for ev in self.stub.Convert(req, timeout=timeout, metadata=self._metadata):
                if on_event is not None:
                    on_event(ev)
                if ev.WhichOneof("event") == "result":
                    result = ev.result
        except grpc.RpcError as e:
            raise _failed(e) from None
        if result is None:
            raise ConversionFailed(grpc.StatusCode.INTERNAL, "the gateway sent no result")
        return ConversionResult(list(result.outputs), json.loads(result.report_json),
                                result.verified)

    def plan(self, source_format: str, source: Mapping[str, str], target_format: str,
             destination: str = "", *, options: Mapping[str, str] | None = None,
             constraints: Mapping[str, str] | None = None) -> gpb.ConversionPlan:
        req = self.request(source_format, source, target_format, destination, options=options,
                           constraints=constraints)
        try:
            return self.stub.Plan(req, metadata=self._metadata)
        except grpc.RpcError as e:
            raise _failed(e) from None

    def converters(self) -> list[gpb.Converter]:
        try:
            return list(self.stub.ListConverters(gpb.ListConvertersRequest(),
                                                 metadata=self._metadata).converter)
        except grpc.RpcError as e:
            raise _failed(e) from None
