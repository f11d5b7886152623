"""The converters the gateway knows: addresses from configuration, what each says of itself
(Describe), and round robin over the replicas of one service.

A DNS name that resolves to several IPs (a Kubernetes headless Service) becomes one replica per
IP; each such channel keeps the name for TLS (the certificate is checked against the name, not
the IP: see ``nnrosetta.rpc.security.tls_channel_options``)."""

from __future__ import annotations

import itertools
import socket
import threading
import time
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from nnrosetta.proto import converter_pb2 as cpb
from nnrosetta.proto import converter_pb2_grpc as cpb_grpc
from nnrosetta.rpc.server import log, log_event


@dataclass
class Replica:
    address: str
    channel: grpc.Channel
    stub: cpb_grpc.ConverterStub
    info: cpb.DescribeResponse | None = None
    serving: bool = False
    error: str = ""


@dataclass
class ServiceEntry:
    """One converter service (by name) and its replicas."""

    name: str
    info: cpb.DescribeResponse
    replicas: list[Replica] = field(default_factory=list)
    _rr: itertools.count = field(default_factory=itertools.count)

    def pick(self) -> Replica:
        live = [r for r in self.replicas if r.serving] or self.replicas
        return live[next(self._rr) % len(live)]


def server_name(target: str, address: str) -> str | None:
    """The DNS name TLS must check for `address` when it was expanded from `target`; None when
    the address is the target itself (the channel's own authority is then right)."""
    if address == target:
        return None
    host = target.rpartition(":")[0].strip("[]")
    return host or None


def expand(target: str) -> list[str]:
    """host:port -> one address per resolved IP when the name has several (a headless Service);
    the address as given when it resolves to one (keep the name for TLS)."""
    host, _, port = target.rpartition(":")
    try:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
        ips = sorted({a[4][0] for a in infos})
    except (OSError, ValueError):
        return [target]
    if len(ips) <= 1:
        return [target]
    return [f"{ip}:{port}" if ":" not in ip else f"[{ip}]:{port}" for ip in ips]


class ConverterPool:
    def __init__(self, targets: list[str], channel_factory=None, refresh_s: float = 15.0):
        """channel_factory(address, server_name) -> grpc.Channel; server_name is the DNS name
        the address was expanded from (None when not expanded). Default: plaintext."""
        self.targets = targets
        self._channel_factory = channel_factory or (
            lambda addr, server_name=None: grpc.insecure_channel(addr))
        self._replicas: dict[str, Replica] = {}
        self._lock = threading.Lock()
        self._last = 0.0
        self.refresh_s = refresh_s
        self._entries: dict[str, ServiceEntry] = {}

    def _replica(self, addr: str, name: str | None = None) -> Replica:
        r = self._replicas.get(addr)
        if r is None:
            ch = self._channel_factory(addr, name)
            r = Replica(addr, ch, cpb_grpc.ConverterStub(ch))
            self._replicas[addr] = r
        return r

    def refresh(self, wait_s: float = 0.0) -> None:
        """Describe every replica (waiting up to wait_s for ones not yet serving)."""
        deadline = time.monotonic() + wait_s
        with self._lock:
            addrs = [(a, server_name(t, a)) for t in self.targets for a in expand(t)]
            for addr, name in addrs:
                r = self._replica(addr, name)
                while True:
                    try:
                        h = health_pb2_grpc.HealthStub(r.channel).Check(
                            health_pb2.HealthCheckRequest(), timeout=2)
                        r.serving = h.status == health_pb2.HealthCheckResponse.SERVING
                        if r.serving:
                            r.info = r.stub.Describe(cpb.DescribeRequest(), timeout=10)
                            r.error = ""
                        else:
                            r.error = "not serving yet"
                    except grpc.RpcError as e:
                        r.serving = False
                        r.error = f"{e.code().name}: {e.details()}"
                    if r.serving or time.monotonic() >= deadline:
                        break
                    time.sleep(0.2)
                if not r.serving:
                    log_event("converter unavailable", address=addr, error=r.error)
            self._last = time.monotonic()

    def services(self, max_age_s: float | None = None) -> dict[str, ServiceEntry]:
        age = self.refresh_s if max_age_s is None else max_age_s
        if time.monotonic() - self._last > age or any(
                not r.serving for r in self._replicas.values()):
            try:
                self.refresh()
            except Exception:  # noqa: BLE001 - a broken converter must not break the gateway
                log.exception("refreshing converters failed")
        out: dict[str, ServiceEntry] = {}
        for r in self._replicas.values():
            if r.info is None:
                continue
            e = out.get(r.info.name)
            if e is None:
                e = out[r.info.name] = ServiceEntry(r.info.name, r.info)
            e.replicas.append(r)
        # keep round-robin counters across calls
        for name, e in out.items():
            if name in self._entries:
                e._rr = self._entries[name]._rr
        self._entries = out
        return out

    def all_replicas(self) -> list[Replica]:
        return list(self._replicas.values())

    def close(self) -> None:
        for r in self._replicas.values():
            r.channel.close()
