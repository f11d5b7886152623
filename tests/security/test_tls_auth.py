"""Security on the wire, with real processes from their own virtual environments: converters
(frontend-caffe, grpcio 1.68) that require mutual TLS, a gateway (grpcio 1.85) that speaks TLS
to its clients, requires a bearer token and presents a client certificate to the converters,
and plaintext health-only ports for Kubernetes' probes. Certificates are made here, for the
test (tests/security/certs.py)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from nnrosetta import cli
from nnrosetta.client import ConversionFailed, GatewayClient
from nnrosetta.proto import converter_pb2 as cpb
from nnrosetta.proto import converter_pb2_grpc as cpb_grpc
from nnrosetta.rpc import security as sec
from nnrosetta.stack import _clean_env, ensure_venv, module_name
from tests.security.certs import make_pki
from tests.zoo.build import build

pytestmark = pytest.mark.integration

TOKENS = ("tok-first-0123456789", "tok-second-abcdefghij")
LISTEN = re.compile(r"NNROSETTA_LISTENING (\S+?:\d+)(?=\D)")
HEALTH_LISTEN = re.compile(r"NNROSETTA_HEALTH_LISTENING (\S+?:\d+)(?=\D)")


class Proc:
    def __init__(self, name: str, env: dict[str, str], folder: Path):
        self.name = name
        self.log = folder / f"{name}.log"
        py = str(ensure_venv(name.split(".")[0], None))
        with open(self.log, "wb") as f:
            self.p = subprocess.Popen(
                [py, "-m", module_name(name.split(".")[0])], stdout=f, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=str(folder), start_new_session=True,
                env=_clean_env({"HOST": "127.0.0.1", "PORT": "0", "GRACE_S": "1", **env}))
        self.address = self.health_address = ""

    def wait(self, timeout: float = 120) -> Proc:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.p.poll() is None, f"{self.name} exited:\n{self.text()[-3000:]}"
            text = self.text()
            m = LISTEN.search(text)
            if m:
                self.address = m.group(1)
                self.health_address = HEALTH_LISTEN.search(text).group(1)
                if health(self.health_address) == "SERVING":
                    return self
            time.sleep(0.1)
        raise AssertionError(f"{self.name} did not serve:\n{self.text()[-3000:]}")

    def text(self) -> str:
        return self.log.read_text("utf-8", "replace")

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(5)


def health(address: str, creds: grpc.ChannelCredentials | None = None, service: str = "",
           metadata=()) -> str:
    ch = grpc.secure_channel(address, creds) if creds else grpc.insecure_channel(address)
    with ch:
        try:
            r = health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=3, metadata=metadata)
        except grpc.RpcError as e:
            return e.code().name
        return health_pb2.HealthCheckResponse.ServingStatus.Name(r.status)


def reflect(ch: grpc.Channel, metadata=()) -> set[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(ch)
    req = reflection_pb2.ServerReflectionRequest(list_services="")
    resp = next(iter(stub.ServerReflectionInfo(iter([req]), timeout=5, metadata=metadata)))
    return {s.name for s in resp.list_services_response.service}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("secure-stack")
    pki = make_pki(folder / "pki")
    tokens = folder / "tokens"
    tokens.write_text(f"# accepted gateway tokens\n\n{TOKENS[0]}\n  # old one, revoked\n"
                      f"{TOKENS[1]}\n")
    conv_env = {sec.TLS_CERT: str(pki.converter.cert), sec.TLS_KEY: str(pki.converter.key),
                sec.TLS_CLIENT_CA: str(pki.ca.cert), sec.HEALTH_PORT: "0"}
    # the rogue converter: a certificate from a CA the gateway does not trust
    rogue_env = {sec.TLS_CERT: str(pki.rogue_server.cert), sec.TLS_KEY: str(pki.rogue_server.key),
                 sec.HEALTH_PORT: "0"}
    procs = []
    try:
        conv = Proc("frontend-caffe", conv_env, folder)
        procs.append(conv)
        rogue = Proc("frontend-caffe.rogue", rogue_env, folder)
        procs.append(rogue)
        conv.wait()
        rogue.wait()
        gw_env = {
            "NNROSETTA_CONVERTERS": f"{conv.address},{rogue.address}",
            "NNROSETTA_CONVERTER_WAIT_S": "3",
            sec.CONVERTER_TLS_CA: str(pki.ca.cert),
            sec.CONVERTER_TLS_CERT: str(pki.gateway_client.cert),
            sec.CONVERTER_TLS_KEY: str(pki.gateway_client.key),
            sec.TLS_CERT: str(pki.gateway_server.cert), sec.TLS_KEY: str(pki.gateway_server.key),
            sec.AUTH_TOKENS_FILE: str(tokens), sec.HEALTH_PORT: "0",
        }
        gw = Proc("gateway", gw_env, folder)
        procs.append(gw)
        gw.wait()
        yield {"pki": pki, "conv": conv, "rogue": rogue, "gw": gw, "folder": folder}
    finally:
        for p in reversed(procs):
            p.stop()


def _gw_creds(pki) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(pki.ca.cert.read_bytes())


# --------------------------------------------------------------------------- (1) tokens


def test_gateway_requires_a_token_but_not_for_health(world):
    gw, pki = world["gw"], world["pki"]
    with GatewayClient(gw.address, credentials=_gw_creds(pki)) as c:
        with pytest.raises(ConversionFailed) as ei:
            c.converters()
    assert ei.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert "requires a token" in ei.value.message
    assert "authorization: Bearer <token>" in ei.value.message
    assert "--token" in ei.value.message

    with GatewayClient(gw.address, token="tok-first-0123456788",
                       credentials=_gw_creds(pki)) as c:
        with pytest.raises(ConversionFailed) as ei:
            c.plan("caffe", {}, "ir")
    assert ei.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert "not accepted" in ei.value.message

    for tok in TOKENS:   # every token of the file, comments skipped
        with GatewayClient(gw.address, token=tok, credentials=_gw_creds(pki)) as c:
            plan = c.plan("caffe", {}, "ir")
            assert [h.service for h in plan.hop] == ["frontend-caffe"]
            assert plan.hop[0].address == world["conv"].address

    # health: no token needed, on the TLS port and on the plaintext health port
    assert health(gw.address, _gw_creds(pki)) == "SERVING"
    assert health(gw.address, _gw_creds(pki), "nnrosetta.gateway.v1.Gateway") == "SERVING"
    assert health(gw.health_address) == "SERVING"
    # reflection needs the token (documented in docs/security.md)
    with grpc.secure_channel(gw.address, _gw_creds(pki)) as ch:
        with pytest.raises(grpc.RpcError) as e2:
            reflect(ch)
        assert e2.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "nnrosetta.gateway.v1.Gateway" in reflect(
            ch, (("authorization", f"Bearer {TOKENS[0]}"),))
    # plaintext to the TLS port gets nothing
    assert health(gw.address) == "UNAVAILABLE"
    # no token ever reaches the log
    log = gw.text()
    assert '"msg": "unauthenticated"' in log
    assert not any(t in log for t in TOKENS) and "tok-first-0123456788" not in log


def test_cli_token_and_tls_flags(world, capsys, monkeypatch):
    gw, pki = world["gw"], world["pki"]
    monkeypatch.delenv("NNROSETTA_TOKEN", raising=False)
    args = ["converters", "--gateway", gw.address, "--tls-ca", str(pki.ca.cert), "--json"]
    assert cli.main(args) == cli.EXIT_FAILED
    err = capsys.readouterr().err
    assert "UNAUTHENTICATED" in err and "hint: check --token" in err
    assert cli.main([*args, "--token", TOKENS[1]]) == cli.EXIT_OK
    convs = json.loads(capsys.readouterr().out)
    assert {(c["address"], c.get("serving", False)) for c in convs} == {
        (world["conv"].address, True), (world["rogue"].address, False)}
    monkeypatch.setenv("NNROSETTA_TOKEN", TOKENS[0])
    assert cli.main(args) == cli.EXIT_OK
    capsys.readouterr()
    assert cli.main([*args[:-1], "--tls-cert", str(pki.gateway_client.cert)]) == \
        cli.EXIT_BAD_INPUT
    assert "--tls-key is not set" in capsys.readouterr().err


# --------------------------------------------------------------------------- (2) mutual TLS


def test_gateway_reaches_the_mtls_converter_and_converts(world, tmp_path):
    gw, pki, conv = world["gw"], world["pki"], world["conv"]
    with GatewayClient(gw.address, token=TOKENS[0], credentials=_gw_creds(pki)) as c:
        convs = {x.address: x for x in c.converters()}
        assert convs[conv.address].serving and convs[conv.address].name == "frontend-caffe"
        prototxt, caffemodel = build("tiny_eltwise")
        out = tmp_path / "out"
        res = c.convert("caffe", {"network": Path(prototxt).as_uri(),
                                  "weights": Path(caffemodel).as_uri()},
                        "ir", out.as_uri())
    assert res.verified, res.report["verification"]
    assert res.report["verification"]["source_runtime"]["service"] == "frontend-caffe"
    assert (out / "graph.pb").is_file() or any(out.iterdir())
    # the converter saw the calls over mutual TLS (its log says so and records the RPCs)
    log = conv.text()
    assert '"mutual_tls": true' in log
    assert '"method": "ToIR", "ok": true' in log


def _describe(address: str, creds: grpc.ChannelCredentials) -> str:
    with grpc.secure_channel(address, creds) as ch:
        try:
            return cpb_grpc.ConverterStub(ch).Describe(cpb.DescribeRequest(), timeout=5).name
        except grpc.RpcError as e:
            return e.code().name


def test_converter_refuses_clients_without_a_trusted_certificate(world):
    pki, conv = world["pki"], world["conv"]
    ca = pki.ca.cert.read_bytes()

    def creds(issued=None):
        if issued is None:
            return grpc.ssl_channel_credentials(ca)
        return grpc.ssl_channel_credentials(ca, issued.key.read_bytes(),
                                            issued.cert.read_bytes())

    assert _describe(conv.address, creds(pki.gateway_client)) == "frontend-caffe"
    assert _describe(conv.address, creds()) == "UNAVAILABLE"                  # no certificate
    assert _describe(conv.address, creds(pki.rogue_client)) == "UNAVAILABLE"  # rogue CA
    with grpc.insecure_channel(conv.address) as ch:                            # plaintext
        with pytest.raises(grpc.RpcError) as ei:
            cpb_grpc.ConverterStub(ch).Describe(cpb.DescribeRequest(), timeout=5)
        assert ei.value.code() == grpc.StatusCode.UNAVAILABLE


def test_a_gateway_with_a_rogue_certificate_is_refused(world, tmp_path):
    """A second real gateway that presents a client certificate from the rogue CA: the
    converter refuses the handshake, the gateway reports it unavailable."""
    pki, conv = world["pki"], world["conv"]
    env = {"NNROSETTA_CONVERTERS": conv.address, "NNROSETTA_CONVERTER_WAIT_S": "1",
           sec.CONVERTER_TLS_CA: str(pki.ca.cert),
           sec.CONVERTER_TLS_CERT: str(pki.rogue_client.cert),
           sec.CONVERTER_TLS_KEY: str(pki.rogue_client.key), sec.HEALTH_PORT: "0"}
    bad = Proc("gateway.rogue", env, tmp_path)
    try:
        bad.wait()
        with GatewayClient(bad.address) as c:   # this one runs without TLS and tokens
            convs = c.converters()
            assert [(x.address, x.serving, x.name) for x in convs] == [(conv.address, False, "")]
            with pytest.raises(ConversionFailed) as ei:
                c.plan("caffe", {}, "ir")
            assert ei.value.code in (grpc.StatusCode.UNIMPLEMENTED,
                                     grpc.StatusCode.UNAVAILABLE,
                                     grpc.StatusCode.FAILED_PRECONDITION)
        assert '"msg": "converter unavailable"' in bad.text()   # the converter hung up
    finally:
        bad.stop()


def test_gateway_does_not_trust_a_converter_its_ca_did_not_sign(world):
    gw, pki, rogue = world["gw"], world["pki"], world["rogue"]
    with GatewayClient(gw.address, token=TOKENS[0], credentials=_gw_creds(pki)) as c:
        convs = {x.address: x for x in c.converters()}
    assert not convs[rogue.address].serving and not convs[rogue.address].name
    lines = [json.loads(ln) for ln in gw.text().splitlines() if ln.startswith("{")]
    unavailable = [ln for ln in lines if ln.get("msg") == "converter unavailable"
                   and ln.get("address") == rogue.address]
    assert unavailable and unavailable[0]["error"].startswith("UNAVAILABLE")
    assert "handshake failed" in unavailable[0]["error"].lower()
    assert not any(ln.get("address") == world["conv"].address for ln in
                   [x for x in lines if x.get("msg") == "converter unavailable"])


def test_expanded_address_keeps_the_dns_name_for_tls(world, monkeypatch):
    """A headless Service in miniature, in this process with the gateway's own pool code: a DNS
    name resolving to two IPs becomes two replicas, and TLS checks the converter's certificate
    against the name (its certificate is for converter.nnrosetta.test), not the IP dialed."""
    from nnrosetta_gateway.pool import ConverterPool

    pki, conv = world["pki"], world["conv"]
    port = conv.address.rpartition(":")[2]
    real = socket.getaddrinfo

    def fake(host, p, *a, **kw):
        if host in ("converter.nnrosetta.test", "other.nnrosetta.test"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, int(p)))
                    for ip in ("127.0.0.1", "127.0.0.2")]
        return real(host, p, *a, **kw)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    factory = sec.converter_channel_factory({
        sec.CONVERTER_TLS_CA: str(pki.ca.cert),
        sec.CONVERTER_TLS_CERT: str(pki.gateway_client.cert),
        sec.CONVERTER_TLS_KEY: str(pki.gateway_client.key)})
    for name, ok in (("converter.nnrosetta.test", True), ("other.nnrosetta.test", False)):
        pool = ConverterPool([f"{name}:{port}"], channel_factory=factory)
        try:
            pool.refresh()
            reps = {r.address: r for r in pool.all_replicas()}
            assert set(reps) == {f"127.0.0.1:{port}", f"127.0.0.2:{port}"}
            # 127.0.0.1 is the converter: trusted only when the name is in its certificate
            assert reps[f"127.0.0.1:{port}"].serving is ok, reps[f"127.0.0.1:{port}"].error
            assert not reps[f"127.0.0.2:{port}"].serving   # nothing listens there
        finally:
            pool.close()


# --------------------------------------------------------------------------- (3) health port


def test_plaintext_health_port_answers_health_and_nothing_else(world):
    for p, main in ((world["conv"], "nnrosetta.converter.v1.Converter"),
                    (world["gw"], "nnrosetta.gateway.v1.Gateway")):
        assert p.health_address != p.address
        assert health(p.health_address) == "SERVING"
        assert health(p.health_address, service=main) == "SERVING"
        with grpc.insecure_channel(p.health_address) as ch:
            with pytest.raises(grpc.RpcError) as ei:
                reflect(ch, (("authorization", f"Bearer {TOKENS[0]}"),))
            assert ei.value.code() == grpc.StatusCode.UNIMPLEMENTED
            with pytest.raises(grpc.RpcError) as ei:
                cpb_grpc.ConverterStub(ch).Describe(cpb.DescribeRequest(), timeout=5)
            assert ei.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert os.environ.get("NNROSETTA_HEALTH_PORT") is None   # nothing leaked here
