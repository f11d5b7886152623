"""The Gateway gRPC service.

Configuration (environment):
  PORT, HOST                 where to listen (PORT=0: any free port)
  NNROSETTA_CONVERTERS       comma-separated converter addresses (host:port; a DNS name that
                             resolves to several addresses is spread over round robin)
  AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION
                             object storage for s3:// URIs (only the gateway holds them)
  NNROSETTA_FILE_ROOTS       colon-separated folders file:// URIs may touch (default: any)
  NNROSETTA_MAX_CONVERSIONS  conversions at once (default 2)
  NNROSETTA_CONVERTER_WAIT_S how long to wait at start for the converters to serve (default 60)

Security (docs/security.md; nnrosetta.rpc.security implements it; nothing set = plaintext, no
authentication, as before):
  NNROSETTA_TLS_CERT, NNROSETTA_TLS_KEY
                             PEM certificate and key: clients reach the gateway over TLS
  NNROSETTA_TLS_CLIENT_CA    require client certificates signed by this CA (mutual TLS)
  NNROSETTA_AUTH_TOKENS_FILE accepted tokens, one a line (blank lines, # comments ignored;
                             re-read when it changes)
  NNROSETTA_AUTH_TOKEN       one accepted token
                             with either set, every call (reflection included) but the gRPC
                             health service needs `authorization: Bearer <token>`, else
                             UNAUTHENTICATED; tokens are compared in constant time, never logged
  NNROSETTA_CONVERTER_TLS_CA CA that signed the converters' certificates: TLS to the converters
  NNROSETTA_CONVERTER_TLS_CERT, NNROSETTA_CONVERTER_TLS_KEY
                             the gateway's client certificate for converters that require
                             mutual TLS; a converter address expanded from a DNS name keeps that
                             name as the TLS server name
  NNROSETTA_HEALTH_PORT      also serve the health service alone, in plaintext, on this port
"""

from __future__ import annotations

import os
import queue
import threading

import grpc

from nnrosetta.proto import gateway_pb2 as gpb
from nnrosetta.proto import gateway_pb2_grpc as gpb_grpc
from nnrosetta.rpc import security
from nnrosetta.rpc.errors import ConversionError, abort
from nnrosetta.rpc.server import Service, log, log_event, setup_logging
from nnrosetta_gateway.pipeline import Conversion
from nnrosetta_gateway.pool import ConverterPool
from nnrosetta_gateway.storage import Storage

_DONE = object()


class GatewayServicer(gpb_grpc.GatewayServicer):
    def __init__(self, pool: ConverterPool, storage: Storage, max_conversions: int = 2):
        self.pool = pool
        self.storage = storage
        self.slots = threading.BoundedSemaphore(max_conversions)

    def Plan(self, request, context):
        try:
            conv = Conversion(request, self.pool, self.storage, lambda e: None)
            _, plan, _ = conv.make_plan(conv.local_saved_by())
            return plan
        except ConversionError as e:
            abort(context, e)

    def ListConverters(self, request, context):
        self.pool.services(max_age_s=0)
        resp = gpb.ListConvertersResponse()
        for r in self.pool.all_replicas():
            c = resp.converter.add(address=r.address, serving=r.serving)
            if r.info is not None:
                c.name = r.info.name
                c.framework = r.info.framework
                c.framework_version = r.info.framework_version
                c.reads.extend(r.info.reads)
                c.writes.extend(r.info.writes)
                c.versions.update(r.info.versions)
        return resp

    def Convert(self, request, context):
        events: queue.Queue = queue.Queue()
        cancelled = threading.Event()
        context.add_callback(cancelled.set)
        outcome: dict = {}

        def work():
            with self.slots:
                try:
                    conv = Conversion(request, self.pool, self.storage, events.put, cancelled)
                    outcome["result"] = conv.run()
                except ConversionError as e:
                    outcome["error"] = e
                except Exception as e:  # noqa: BLE001 - must reach the client
                    log.exception("conversion failed")
                    outcome["error"] = ConversionError(
                        grpc.StatusCode.INTERNAL, f"gateway: {type(e).__name__}: {e}",
                        reason="INTERNAL")
                finally:
                    events.put(_DONE)

        threading.Thread(target=work, daemon=True, name="conversion").start()
        while True:
            ev = events.get()
            if ev is _DONE:
                break
            yield ev
        if "error" in outcome:
            e = outcome["error"]
            log_event("convert", ok=False, code=e.code.name, error=e.message)
            abort(context, e)
        res = outcome["result"]
        log_event("convert", ok=True, verified=res.verified, outputs=len(res.outputs))
        yield gpb.ConvertEvent(result=res)


def serve(port: int | None = None, converters: list[str] | None = None) -> Service:
    setup_logging("gateway")
    targets = converters if converters is not None else [
        a.strip() for a in os.environ.get("NNROSETTA_CONVERTERS", "").split(",") if a.strip()]
    factory = security.converter_channel_factory()
    auth = security.auth_interceptor_from_env()
    log_event("security", converter_tls=factory.tls, auth_tokens=auth is not None)
    pool = ConverterPool(targets, channel_factory=factory)
    storage = Storage()
    servicer = GatewayServicer(pool, storage,
                               int(os.environ.get("NNROSETTA_MAX_CONVERSIONS", "2")))

    def register(server):
        gpb_grpc.add_GatewayServicer_to_server(servicer, server)

    def load():
        import boto3  # noqa: F401 - loaded before SERVING, not on the first request

        pool.refresh(wait_s=float(os.environ.get("NNROSETTA_CONVERTER_WAIT_S", "60")))

    svc = Service("gateway", [gpb.DESCRIPTOR.services_by_name["Gateway"].full_name], register,
                  port=port, load=load, interceptors=[auth] if auth is not None else [])
    svc.pool = pool
    return svc.start()


def main() -> None:
    serve().serve_forever()
