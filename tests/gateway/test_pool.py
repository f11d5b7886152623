"""The pool's discovery: a DNS name with several addresses (a headless Service) becomes one
replica per IP, each channel keeping the name for TLS; round robin over the replicas."""

from __future__ import annotations

import socket

import grpc

from nnrosetta.proto import converter_pb2 as cpb
from nnrosetta_gateway import pool as pool_mod
from nnrosetta_gateway.pool import ConverterPool, Replica, ServiceEntry, expand, server_name


def _fake_getaddrinfo(table):
    real = socket.getaddrinfo

    def fake(host, port, *a, **kw):
        if host in table:
            return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6,
                     "", (ip, port) if ":" not in ip else (ip, port, 0, 0))
                    for ip in table[host]]
        return real(host, port, *a, **kw)

    return fake


def test_expand_one_address_per_ip(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _fake_getaddrinfo({
        "caffe.nnr.svc": ["10.0.0.7", "10.0.0.5", "10.0.0.7", "fd00::9"],
        "single.nnr.svc": ["10.0.0.8"]}))
    assert expand("caffe.nnr.svc:50051") == ["10.0.0.5:50051", "10.0.0.7:50051",
                                             "[fd00::9]:50051"]
    assert expand("single.nnr.svc:50051") == ["single.nnr.svc:50051"]   # name kept
    assert expand("no-such-host.invalid:1") == ["no-such-host.invalid:1"]
    assert server_name("caffe.nnr.svc:50051", "10.0.0.5:50051") == "caffe.nnr.svc"
    assert server_name("single.nnr.svc:50051", "single.nnr.svc:50051") is None


def test_pool_gives_the_dns_name_to_the_channel_factory(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", _fake_getaddrinfo({
        "caffe.nnr.svc": ["127.0.0.1", "127.0.0.2"]}))
    made = []

    def factory(address, name=None):
        made.append((address, name))
        return grpc.insecure_channel(address)

    p = ConverterPool(["caffe.nnr.svc:1", "127.0.0.1:2"], channel_factory=factory)
    monkeypatch.setattr(pool_mod.time, "sleep", lambda s: None)
    p.refresh()
    p.close()
    assert made == [("127.0.0.1:1", "caffe.nnr.svc"), ("127.0.0.2:1", "caffe.nnr.svc"),
                    ("127.0.0.1:2", None)]
    assert all(not r.serving and r.error.startswith("UNAVAILABLE") for r in p.all_replicas())


def test_pick_is_round_robin_over_serving_replicas():
    reps = [Replica(f"10.0.0.{i}:1", None, None, serving=i != 2) for i in range(1, 4)]
    e = ServiceEntry("frontend-caffe", cpb.DescribeResponse(name="frontend-caffe"), reps)
    assert [e.pick().address for _ in range(4)] == ["10.0.0.1:1", "10.0.0.3:1"] * 2
