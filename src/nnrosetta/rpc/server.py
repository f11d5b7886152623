"""How every nnrosetta service starts: PORT from the environment, the standard health service
(NOT_SERVING until the framework has loaded, then SERVING), server reflection, structured JSON
logs, and a graceful stop on SIGTERM/SIGINT.

Security comes from the environment too (``nnrosetta.rpc.security`` documents the names):
NNROSETTA_TLS_CERT/KEY (TLS), NNROSETTA_TLS_CLIENT_CA (mutual TLS) and NNROSETTA_HEALTH_PORT
(the health service alone, in plaintext, on a second port for Kubernetes' gRPC probes)."""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from nnrosetta.rpc import security

log = logging.getLogger("nnrosetta")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for k, v in getattr(record, "fields", {}).items():
            out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


_libc = None


def return_memory_to_os() -> None:
    """Hand the heap's free memory back to the OS (glibc keeps freed blocks for reuse once its
    mmap threshold has grown, so a service that converted a big model would hold that RSS
    until it exits). Called after each large RPC; a few ms. Fixed mmap thresholds would do it
    too, but page-faulting every activation made inference 30-50% slower."""
    global _libc
    if not sys.platform.startswith("linux"):
        return
    try:
        if _libc is None:
            import ctypes
            import ctypes.util

            _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _libc.malloc_trim(0)
    except (OSError, AttributeError):   # not glibc (musl): nothing to trim
        _libc = False


def setup_logging(service: str) -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    h = logging.StreamHandler(sys.stderr)
    h.setFormatter(JsonFormatter())
    root.handlers[:] = [h]
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    logging.getLogger("nnrosetta").info("logging ready", extra={"fields": {"service": service}})


def log_event(msg: str, **fields: object) -> None:
    log.info(msg, extra={"fields": fields})


class Service:
    """A running gRPC server with health and reflection."""

    def __init__(self, name: str, service_names: Sequence[str],
                 register: Callable[[grpc.Server], None], *, port: int | None = None,
                 host: str | None = None, max_workers: int = 8,
                 load: Callable[[], None] | None = None,
                 credentials: grpc.ServerCredentials | None = None,
                 interceptors: Sequence[grpc.ServerInterceptor] = (),
                 health_port: int | None = None, freeze_gc: bool = False):
        """credentials: None reads NNROSETTA_TLS_* (plaintext when unset); health_port: None
        reads NNROSETTA_HEALTH_PORT (no second port when unset); freeze_gc: once loaded, move
        every object there is out of the garbage collector's sight (for a service process
        of its own, not a test's)."""
        self.name = name
        self.freeze_gc = freeze_gc
        self.tls = credentials is not None
        if credentials is None:
            credentials = security.server_credentials()
            self.tls = credentials is not None
        self.mutual_tls = self.tls and bool(os.environ.get(security.TLS_CLIENT_CA, "").strip())
        if health_port is None:
            health_port = security.health_port()
        self.ready = threading.Event()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=max_workers),
                                  interceptors=list(interceptors),
                                  options=[("grpc.so_reuseport", 0)])
        self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        register(self.server)
        self._service_names = list(service_names)
        reflection.enable_server_reflection(
            [*service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
             reflection.SERVICE_NAME], self.server)
        for s in ["", *service_names]:
            self.health.set(s, health_pb2.HealthCheckResponse.NOT_SERVING)
        host = host or os.environ.get("HOST", "127.0.0.1")
        port = int(port if port is not None else os.environ.get("PORT", "0"))
        addr = f"{host}:{port}"
        if credentials is not None:
            self.port = self.server.add_secure_port(addr, credentials)
        else:
            self.port = self.server.add_insecure_port(addr)
        if self.port == 0:
            raise RuntimeError(f"{name}: cannot listen on {addr}")
        self.address = f"{host}:{self.port}"
        self.health_server: grpc.Server | None = None
        self.health_address: str | None = None
        if health_port is not None:
            self.health_server, hp = security.health_only_server(self.health, host, health_port)
            self.health_address = f"{host}:{hp}"
        self._load = load

    def start(self) -> Service:
        self.server.start()
        if self.health_server is not None:
            self.health_server.start()
        log_event("listening", service=self.name, address=self.address, tls=self.tls,
                  mutual_tls=self.mutual_tls, health_address=self.health_address)
        threading.Thread(target=self._become_ready, daemon=True).start()
        return self

    def _become_ready(self) -> None:
        t0 = time.perf_counter()
        try:
            if self._load is not None:
                self._load()
        except Exception:
            log.exception("framework failed to load; staying NOT_SERVING")
            return
        if self.freeze_gc:
            # What the framework's import made lives as long as the service: keep it out of
            # the collector's way, so that a full collection during a conversion walks only
            # what the conversion made (over TensorFlow's ~280k objects a pass took ~0.15 s,
            # measured).
            gc.collect()
            gc.freeze()
        for s in ["", *self._service_names]:
            self.health.set(s, health_pb2.HealthCheckResponse.SERVING)
        self.ready.set()
        log_event("serving", service=self.name, load_s=round(time.perf_counter() - t0, 3),
                  gc_frozen=gc.get_freeze_count())

    def stop(self, grace: float = 5.0) -> None:
        self.health.enter_graceful_shutdown()
        self.server.stop(grace).wait()
        if self.health_server is not None:
            self.health_server.stop(0).wait()
        log_event("stopped", service=self.name)

    def serve_forever(self) -> None:
        done = threading.Event()

        def on_signal(signum, _frame):
            log_event("signal", service=self.name, signal=signum)
            done.set()

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        # Tell a parent process where we listen (the local stack reads these lines; the
        # health line comes first so that it is there once the address is).
        if self.health_address:
            print(f"NNROSETTA_HEALTH_LISTENING {self.health_address}", flush=True)
        print(f"NNROSETTA_LISTENING {self.address}", flush=True)
        done.wait()
        self.stop(float(os.environ.get("GRACE_S", "5")))
