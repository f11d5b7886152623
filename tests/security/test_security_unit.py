"""nnrosetta.rpc.security's helpers, in process: settings from the environment, token files,
the token interceptor on a real in-process server, and the TLS name kept for expanded
addresses."""

from __future__ import annotations

import os
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from nnrosetta.rpc import security as sec
from nnrosetta.rpc.security import SecurityConfigError
from nnrosetta.rpc.server import Service
from tests.security.certs import make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_parse_tokens_skips_blanks_and_comments():
    text = "# tokens for CI\n\n  alpha  \n#beta\nbeta-2 \n\t\n"
    assert sec.parse_tokens(text) == ["alpha", "beta-2"]


def test_token_source_from_env_and_reload(tmp_path):
    assert sec.token_source_from_env({}) is None
    f = tmp_path / "tokens"
    f.write_text("# one a line\nfirst\n")
    src = sec.token_source_from_env({sec.AUTH_TOKENS_FILE: str(f), sec.AUTH_TOKEN: "single"})
    assert sorted(src.tokens()) == ["first", "single"]
    f.write_text("second\nthird\n")       # rotated: picked up without a restart
    os.utime(f, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert sorted(src.tokens()) == ["second", "single", "third"]
    f.write_text("# emptied by mistake\n")
    os.utime(f, ns=(time.time_ns(), time.time_ns() + 2 * 10**9))
    assert sorted(src.tokens()) == ["second", "single", "third"]   # the last good set stays
    f.unlink()
    assert sorted(src.tokens()) == ["second", "single", "third"]


def test_token_settings_fail_closed(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("# nothing\n\n")
    with pytest.raises(SecurityConfigError, match="NNROSETTA_AUTH_TOKENS_FILE=.*holds no token"):
        sec.token_source_from_env({sec.AUTH_TOKENS_FILE: str(empty)})
    with pytest.raises(SecurityConfigError, match="cannot read"):
        sec.token_source_from_env({sec.AUTH_TOKENS_FILE: str(tmp_path / "missing")})
    with pytest.raises(SecurityConfigError, match="NNROSETTA_AUTH_TOKEN is empty"):
        sec.token_source_from_env({sec.AUTH_TOKEN: "  "})


def test_bearer_and_constant_time_match():
    assert sec.bearer_token([("authorization", "Bearer abc")]) == "abc"
    assert sec.bearer_token([("Authorization", b"bearer  abc ")]) == "abc"
    assert sec.bearer_token([("authorization", "Basic abc")]) == ""
    assert sec.bearer_token([("x-other", "1")]) is None
    assert sec.token_matches("abc", ["zzz", "abc"])
    assert not sec.token_matches("abd", ["abc"])
    assert not sec.token_matches("", ["abc"])
    assert not sec.token_matches("abc", [])


def test_server_tls_settings(pki, tmp_path):
    assert sec.server_tls_settings({}) is None
    assert sec.server_credentials({}) is None
    with pytest.raises(SecurityConfigError, match="NNROSETTA_TLS_KEY is not set"):
        sec.server_tls_settings({sec.TLS_CERT: str(pki.converter.cert)})
    with pytest.raises(SecurityConfigError, match="mutual TLS needs"):
        sec.server_tls_settings({sec.TLS_CLIENT_CA: str(pki.ca.cert)})
    env = {sec.TLS_CERT: str(pki.converter.cert), sec.TLS_KEY: str(pki.converter.key),
           sec.TLS_CLIENT_CA: str(pki.ca.cert)}
    assert isinstance(sec.server_credentials(env), grpc.ServerCredentials)
    (tmp_path / "junk").write_text("not a certificate")
    with pytest.raises(SecurityConfigError, match="NNROSETTA_TLS_CERT=.*not a PEM"):
        sec.server_credentials({**env, sec.TLS_CERT: str(tmp_path / "junk")})
    with pytest.raises(SecurityConfigError, match="NNROSETTA_TLS_CLIENT_CA=.*cannot read"):
        sec.server_credentials({**env, sec.TLS_CLIENT_CA: str(tmp_path / "nope")})


def test_health_port_and_converter_credentials(pki):
    assert sec.health_port({}) is None
    assert sec.health_port({sec.HEALTH_PORT: "8081"}) == 8081
    with pytest.raises(SecurityConfigError, match="not a port"):
        sec.health_port({sec.HEALTH_PORT: "http"})
    assert sec.converter_channel_credentials({}) is None
    assert not sec.converter_channel_factory({}).tls
    env = {sec.CONVERTER_TLS_CA: str(pki.ca.cert),
           sec.CONVERTER_TLS_CERT: str(pki.gateway_client.cert),
           sec.CONVERTER_TLS_KEY: str(pki.gateway_client.key)}
    assert sec.converter_channel_factory(env).tls
    with pytest.raises(SecurityConfigError,
                       match="NNROSETTA_CONVERTER_TLS_KEY is not set"):
        sec.converter_channel_credentials({**env, sec.CONVERTER_TLS_KEY: ""})


def test_tls_channel_options_keep_the_dns_name():
    assert sec.tls_channel_options("10.1.2.3:50051", None) == []
    assert sec.tls_channel_options("10.1.2.3:50051", "caffe.ns.svc") == [
        ("grpc.ssl_target_name_override", "caffe.ns.svc"),
        ("grpc.default_authority", "caffe.ns.svc:50051")]


def _reflect(ch, metadata=()):
    stub = reflection_pb2_grpc.ServerReflectionStub(ch)
    req = reflection_pb2.ServerReflectionRequest(list_services="")
    resp = next(iter(stub.ServerReflectionInfo(iter([req]), timeout=5, metadata=metadata)))
    return {s.name for s in resp.list_services_response.service}


def test_token_interceptor_and_health_port_in_process(pki, monkeypatch):
    """A Service with TLS from the environment, the token interceptor and a health-only
    plaintext port: health needs no token, reflection does, the health port has nothing else."""
    monkeypatch.setenv(sec.TLS_CERT, str(pki.gateway_server.cert))
    monkeypatch.setenv(sec.TLS_KEY, str(pki.gateway_server.key))
    monkeypatch.delenv(sec.TLS_CLIENT_CA, raising=False)
    monkeypatch.setenv(sec.HEALTH_PORT, "0")
    svc = Service("unit", [], lambda server: None,
                  interceptors=[sec.TokenAuthInterceptor(["s3cret"])]).start()
    try:
        assert svc.tls and not svc.mutual_tls and svc.health_address
        assert svc.ready.wait(5)
        creds = grpc.ssl_channel_credentials(pki.ca.cert.read_bytes())
        with grpc.secure_channel(svc.address, creds) as ch:
            h = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert h.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.RpcError) as ei:
                _reflect(ch)
            assert ei.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "authorization: Bearer <token>" in ei.value.details()
            with pytest.raises(grpc.RpcError) as ei:
                _reflect(ch, (("authorization", "Bearer wrong"),))
            assert ei.value.code() == grpc.StatusCode.UNAUTHENTICATED
            assert "not accepted" in ei.value.details()
            assert "grpc.health.v1.Health" in _reflect(ch, (("authorization", "Bearer s3cret"),))
        with grpc.insecure_channel(svc.health_address) as ch:
            h = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert h.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.RpcError) as ei:
                _reflect(ch, (("authorization", "Bearer s3cret"),))
            assert ei.value.code() == grpc.StatusCode.UNIMPLEMENTED
        with grpc.insecure_channel(svc.address) as ch:   # plaintext to the TLS port
            with pytest.raises(grpc.RpcError) as ei:
                health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=3)
            assert ei.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        svc.stop(0)
    with grpc.insecure_channel(svc.health_address) as ch:
        with pytest.raises(grpc.RpcError):
            health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=1)
