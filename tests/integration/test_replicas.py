"""Load spreading: two replicas of frontend-caffe started by the local stack
(``LocalStack(replicas=...)``), the gateway configured with both addresses, several real
conversions; each replica's own log shows that it served some of them. The stack runs with
security on (mutual TLS to the converters, TLS and a token at the gateway), the way a
deployment would, so the stack's health checks use the plaintext health ports."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import grpc
import pytest

from nnrosetta.client import GatewayClient
from nnrosetta.rpc import security as sec
from nnrosetta.stack import LocalStack
from tests.security.certs import make_pki
from tests.zoo.build import build

TOKEN = "replica-test-token-42"


@pytest.mark.integration
def test_two_replicas_both_serve(tmp_path):
    pki = make_pki(tmp_path / "pki")
    converter_env = {sec.TLS_CERT: str(pki.converter.cert), sec.TLS_KEY: str(pki.converter.key),
                     sec.TLS_CLIENT_CA: str(pki.ca.cert)}
    gateway_env = {sec.TLS_CERT: str(pki.gateway_server.cert),
                   sec.TLS_KEY: str(pki.gateway_server.key),
                   sec.AUTH_TOKEN: TOKEN, sec.CONVERTER_TLS_CA: str(pki.ca.cert),
                   sec.CONVERTER_TLS_CERT: str(pki.gateway_client.cert),
                   sec.CONVERTER_TLS_KEY: str(pki.gateway_client.key)}
    prototxt, caffemodel = build("tiny_eltwise")
    source = {"network": Path(prototxt).as_uri(), "weights": Path(caffemodel).as_uri()}
    with LocalStack(tmp_path / "stack", services=["frontend-caffe", "gateway"],
                    replicas={"frontend-caffe": 2}, start_timeout=180,
                    service_env={"frontend-caffe": converter_env, "gateway": gateway_env}) as st:
        state = json.loads(st.state_file.read_text())
        reps = [s for s in state["services"] if s["service"] == "frontend-caffe"]
        assert [r["name"] for r in reps] == ["frontend-caffe.1", "frontend-caffe.2"]
        assert all(r["health_address"] and r["health_address"] != r["address"] for r in reps)
        addresses = {r["address"] for r in reps}
        assert len(addresses) == 2
        assert st.status()["gateway"]["health"] == "SERVING"   # over the health port
        assert st.running()

        creds = grpc.ssl_channel_credentials(pki.ca.cert.read_bytes())
        with GatewayClient(st.gateway_address, token=TOKEN, credentials=creds) as gw:
            listed = {c.address: c for c in gw.converters()}
            assert set(listed) == addresses and all(c.serving for c in listed.values())
            planned = [gw.plan("caffe", source, "ir").hop[0].address for _ in range(4)]
            results = [gw.convert("caffe", source, "ir", (tmp_path / f"out{i}").as_uri())
                       for i in range(4)]
        assert all(r.verified for r in results)
        served = {}
        for r in reps:
            log = Path(r["log"]).read_text()
            served[r["address"]] = Counter(re.findall(r'"method": "(ToIR|Run)"', log))
    # round robin: the plans alternate over both replicas ...
    assert Counter(planned) == Counter(dict.fromkeys(addresses, 2)), planned
    # ... and, from the replicas' own logs, each one ran conversions and verifications
    print("calls served per replica:", served)
    for addr, counts in served.items():
        assert counts["ToIR"] >= 1 and counts["Run"] >= 1, (addr, counts, served)
