"""Errors that name the problem: a gRPC status code, a message, and every issue found, carried
as rich details (google.rpc.Status with BadRequest field violations and an ErrorInfo) so that
clients — ours, grpcurl, any gRPC library — can list them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

DOMAIN = "nnrosetta"


@dataclass(frozen=True)
class Issue:
    code: str        # UNSUPPORTED_LAYER, BAD_SHAPE, SYNTAX, TRUNCATED, MISSING_INPUT_SHAPE, ...
    location: str    # layer / node name, "file:line", or a field
    message: str     # what is wrong and what to do about it

    def __str__(self) -> str:
        return f"[{self.code}] {self.location}: {self.message}" if self.location else \
            f"[{self.code}] {self.message}"


class ConversionError(Exception):
    """Raised by converters and the gateway; becomes a gRPC error with details."""

    def __init__(self, code: grpc.StatusCode, message: str,
                 issues: Iterable[Issue] = (), reason: str = "CONVERSION_FAILED"):
        self.code = code
        self.issues = list(issues)
        self.reason = reason
        full = message
        if self.issues:
            full += "\n" + "\n".join(f"  - {i}" for i in self.issues)
        super().__init__(full)
        self.message = message

    def to_status(self) -> grpc.Status:
        st = status_pb2.Status(code=_CODE[self.code], message=str(self)[:8000])
        br = error_details_pb2.BadRequest()
        for i in self.issues:
            br.field_violations.add(field=i.location, description=f"[{i.code}] {i.message}")
        info = error_details_pb2.ErrorInfo(reason=self.reason, domain=DOMAIN)
        info.metadata["issues"] = str(len(self.issues))
        for msg in (br, info):
            a = any_pb2.Any()
            a.Pack(msg)
            st.details.append(a)
        return rpc_status.to_status(st)


_CODE = {c: getattr(code_pb2, c.name) for c in grpc.StatusCode}


def abort(context: grpc.ServicerContext, err: ConversionError) -> None:
    context.abort_with_status(err.to_status())


def issues_from_rpc_error(e: grpc.RpcError) -> tuple[str, list[Issue]]:
    """(reason, issues) read back from a rich gRPC error; ("", []) when it has none."""
    st = rpc_status.from_call(e) if hasattr(e, "trailing_metadata") else None
    if st is None:
        return "", []
    reason, issues = "", []
    for d in st.details:
        if d.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            br = error_details_pb2.BadRequest()
            d.Unpack(br)
            for v in br.field_violations:
                code, _, msg = v.description.partition("] ")
                issues.append(Issue(code.lstrip("["), v.field, msg))
        elif d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            d.Unpack(info)
            reason = info.reason
    return reason, issues


def from_rpc_error(e: grpc.RpcError, prefix: str = "") -> ConversionError:
    """Re-raise a downstream service's error as ours, keeping its code and issues."""
    reason, issues = issues_from_rpc_error(e)
    details = e.details() if hasattr(e, "details") else str(e)
    msg = details.split("\n  - ")[0] if details else str(e)
    code = e.code() if hasattr(e, "code") else grpc.StatusCode.UNKNOWN
    return ConversionError(code, prefix + msg, issues, reason or "DOWNSTREAM_ERROR")
