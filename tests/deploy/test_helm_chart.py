"""The Helm chart (helm/nnrosetta): what a platform team relies on, read from the manifests that
scripts/helm-check.sh rendered (and validated with kubernetes-validate) for the default values
and every helm/values/*.yaml, plus a few renders with --set for single features."""

from __future__ import annotations

import base64
import json
import shutil

import pytest
import yaml

from tests.deploy.k8s import (
    CHART,
    NAMESPACE,
    Manifests,
    env_of,
    name,
    pod_labels,
    pod_spec,
    quantity,
    render,
    run_check,
    selects,
    template,
    values_files,
)

CONVERTERS = {"frontend-caffe", "backend-pytorch", "frontend-onnx", "backend-onnx",
              "frontend-tf", "frontend-tf-legacy", "backend-tf"}
FRONTENDS = {c for c in CONVERTERS if c.startswith("frontend-")}

# What each values file must produce (keys: "default" = the chart's values.yaml, else the stem
# of helm/values/<stem>.yaml).
EXPECTED = {
    "default": dict(converters=CONVERTERS, storage="bundled",
                    tls=False, auth=False, autoscaling=False, ingress=False),
    "external-s3": dict(converters=FRONTENDS, storage="external",
                        tls=False, auth=False, autoscaling=False, ingress=False),
    "production": dict(converters=CONVERTERS, storage="bundled",
                       tls=True, auth=True, autoscaling=True, ingress=True),
}
CASES = ["default", *(f.stem for f in values_files())]


@pytest.fixture(autouse=True)
def _chart_checked(helm_check):
    """Every test needs the pinned Helm CLI: the session's check installs it (or fails)."""


def converter_deployments(m: Manifests) -> list[dict]:
    return [d for d in m.of("Deployment")
            if d["metadata"]["labels"].get("nnrosetta.io/role") == "converter"]


def gateway(m: Manifests) -> dict:
    return m.get("Deployment", name("gateway"))


def container(workload: dict) -> dict:
    containers = pod_spec(workload)["containers"]
    assert len(containers) == 1, workload["metadata"]["name"]
    return containers[0]


def container_ports(c: dict) -> dict[str, int]:
    return {p["name"]: p["containerPort"] for p in c.get("ports", [])}


# -- the check script ------------------------------------------------------------------------


def test_check_script_lints_renders_and_validates_every_values_file(helm_check):
    assert set(EXPECTED) <= set(CASES), f"values files missing: {set(EXPECTED) - set(CASES)}"
    assert f"all {len(CASES)} values files passed" in helm_check.stdout
    for case in CASES:
        assert f"rendered to {helm_check.out}/{case}.yaml, valid for 1.30" in helm_check.stdout
        assert (helm_check.out / f"{case}.yaml").stat().st_size > 0, case
        assert helm_check.rendered(case).of("Deployment"), case


def test_check_script_fails_loudly_and_names_the_values_file(helm_check, tmp_path):
    """The checker can fail: a schema error (caught only by kubernetes-validate) and a values
    conflict (caught by the chart's own validation in helm lint) are both reported by file."""
    chart = tmp_path / "nnrosetta"
    shutil.copytree(CHART, chart)
    vals = tmp_path / "values"
    vals.mkdir()
    (vals / "bad-port.yaml").write_text("gateway:\n  service:\n    port: not-a-number\n")
    (vals / "two-storages.yaml").write_text("storage:\n  external:\n    enabled: true\n")
    (vals / "fine.yaml").write_text("gateway:\n  replicaCount: 2\n")
    run = run_check(tmp_path / "out", HELM_CHECK_CHART=str(chart), HELM_CHECK_VALUES=str(vals))
    assert run.returncode == 1, run.stdout + run.stderr
    assert "FAILED (2 of 4 values files)" in run.stderr
    assert f"{vals}/bad-port.yaml: kubernetes-validate --strict -k 1.30" in run.stderr
    assert "spec.ports.0.port" in run.stderr
    assert f"{vals}/two-storages.yaml: helm lint --strict" in run.stderr
    assert "fine.yaml:" not in run.stderr


# -- converters: one Deployment + headless Service each, from values ----------------------------


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_one_deployment_and_headless_service_per_enabled_converter(rendered, case):
    m = rendered[case]
    enabled = EXPECTED[case]["converters"]
    got = {d["metadata"]["labels"]["app.kubernetes.io/component"] for d in converter_deployments(m)}
    assert got == enabled
    for conv in enabled:
        dep = m.get("Deployment", name(conv))
        svc = m.get("Service", name(conv))
        assert svc["spec"]["clusterIP"] == "None", "converter Services must be headless"
        assert selects({"matchLabels": svc["spec"]["selector"]}, pod_labels(dep))
        c = container(dep)
        assert f"nnrosetta/{conv}:" in c["image"]
        (port,) = svc["spec"]["ports"]
        assert port["targetPort"] == "grpc" and container_ports(c)["grpc"] == port["port"]
        assert env_of(c)["PORT"]["value"] == str(port["port"])
        assert env_of(c)["HOST"]["value"] == "0.0.0.0"
    # a disabled converter leaves nothing behind, of any kind
    for conv in CONVERTERS - enabled:
        leftovers = [f"{d['kind']}/{d['metadata']['name']}" for d in m.docs
                     if d["metadata"]["name"] == name(conv)
                     or d["metadata"].get("labels", {}).get("app.kubernetes.io/component") == conv]
        assert not leftovers, leftovers
        assert name(conv) not in env_of(container(gateway(m)))["NNROSETTA_CONVERTERS"]["value"]


@pytest.mark.parametrize("case", CASES)
def test_gateway_converters_are_exactly_the_enabled_headless_services(rendered, case):
    m = rendered[case]
    listed = env_of(container(gateway(m)))["NNROSETTA_CONVERTERS"]["value"].split(",")
    assert len(listed) == len(set(listed))
    expected = set()
    for dep in converter_deployments(m):
        svc = m.get("Service", dep["metadata"]["name"])
        assert svc["spec"]["clusterIP"] == "None"
        port = svc["spec"]["ports"][0]["port"]
        expected.add(f"{svc['metadata']['name']}.{NAMESPACE}.svc.cluster.local:{port}")
    assert expected and set(listed) == expected


def test_a_new_converter_is_one_values_entry():
    # a converter the chart does not list: one values entry is enough
    m = render(sets=["converters.frontend-mxnet.enabled=true",
                     "converters.frontend-mxnet.image.repository=nnrosetta/frontend-mxnet",
                     "converters.frontend-mxnet.port=50070"])
    dep = m.get("Deployment", name("frontend-mxnet"))
    assert container(dep)["image"] == "nnrosetta/frontend-mxnet:0.1.0"
    assert m.get("Service", name("frontend-mxnet"))["spec"]["clusterIP"] == "None"
    for kind in ("ServiceAccount", "PodDisruptionBudget", "NetworkPolicy"):
        assert name("frontend-mxnet") in m.names(kind), kind
    listed = env_of(container(gateway(m)))["NNROSETTA_CONVERTERS"]["value"].split(",")
    assert f"{name('frontend-mxnet')}.{NAMESPACE}.svc.cluster.local:50070" in listed
    assert len(listed) == len(CONVERTERS) + 1
    # defaults merged in: hardened, probed, resourced like the others
    c = container(dep)
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["readinessProbe"]["grpc"]["port"] == 50070
    assert c["resources"]["limits"]["memory"]


def test_converter_switches_override_defaults():
    m = render(sets=["converters.frontend-caffe.pdb.enabled=false",
                     "converters.backend-pytorch.autoscaling.enabled=true"])
    assert m.names("PodDisruptionBudget") == {name(c) for c in CONVERTERS - {"frontend-caffe"}} \
        | {name("gateway")}
    assert m.names("HorizontalPodAutoscaler") == {name("backend-pytorch")}
    assert "replicas" not in m.get("Deployment", name("backend-pytorch"))["spec"]
    assert m.get("Deployment", name("frontend-caffe"))["spec"]["replicas"] == 1


# -- pods: probes, resources, security --------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_grpc_probes_target_the_health_port_when_tls_is_on(rendered, case):
    m = rendered[case]
    services = [gateway(m), *converter_deployments(m)]
    for dep in services:
        c = container(dep)
        env = env_of(c)
        ports = container_ports(c)
        tls = "NNROSETTA_TLS_CERT" in env
        want = int(env["NNROSETTA_HEALTH_PORT"]["value"]) if tls else ports["grpc"]
        if tls:
            assert want != ports["grpc"] and ports["health"] == want
        else:
            assert "NNROSETTA_HEALTH_PORT" not in env
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[probe]["grpc"]["port"] == want, (dep["metadata"]["name"], probe)
        # torch takes 10-20 s to load: the startup probe must allow far more
        s = c["startupProbe"]
        assert s["periodSeconds"] * s["failureThreshold"] >= 60
    tls_expected = EXPECTED.get(case, {}).get("tls")
    if tls_expected is not None:
        assert all(("NNROSETTA_TLS_CERT" in env_of(container(d))) == tls_expected
                   for d in converter_deployments(m))


@pytest.mark.parametrize("case", CASES)
def test_every_container_is_resourced_and_hardened(rendered, case):
    m = rendered[case]
    assert m.workloads()
    for w in m.workloads():
        wname = w["metadata"]["name"]
        spec = pod_spec(w)
        pod_sc = spec.get("securityContext", {})
        for c in spec["containers"] + spec.get("initContainers", []):
            res = c["resources"]
            assert quantity(res["requests"]["memory"]) > 0 and res["requests"]["cpu"], wname
            assert quantity(res["limits"]["memory"]) >= quantity(res["requests"]["memory"])
            sc = c["securityContext"]
            assert sc["runAsNonRoot"] is True and sc["runAsUser"] == 10001, wname
            assert sc["readOnlyRootFilesystem"] is True, wname
            assert sc["allowPrivilegeEscalation"] is False, wname
            assert sc["capabilities"]["drop"] == ["ALL"] and not sc["capabilities"].get("add")
            seccomp = sc.get("seccompProfile") or pod_sc.get("seccompProfile")
            assert seccomp == {"type": "RuntimeDefault"}, wname
            tmp = [v for v in c["volumeMounts"] if v["mountPath"] == "/tmp"]
            assert tmp, f"{wname}: no writable /tmp"
            vol = {v["name"]: v for v in spec["volumes"]}[tmp[0]["name"]]
            assert "emptyDir" in vol and vol["emptyDir"].get("sizeLimit"), wname
        assert pod_sc["runAsNonRoot"] is True and pod_sc["runAsUser"] == 10001


def test_backend_pytorch_gets_more_memory(rendered):
    m = rendered["default"]
    torch = container(m.get("Deployment", name("backend-pytorch")))["resources"]
    caffe = container(m.get("Deployment", name("frontend-caffe")))["resources"]
    assert quantity(torch["requests"]["memory"]) >= 2 * 2**30
    assert 2 * 2**30 <= quantity(torch["limits"]["memory"]) <= 8 * 2**30
    assert quantity(torch["requests"]["memory"]) > quantity(caffe["requests"]["memory"])


def test_tensorflow_converters_get_room_for_tensorflow(rendered):
    """TensorFlow's runtime alone is ~0.5 GB resident: the TF converters are sized like
    backend-pytorch (a whole CPU, 2Gi requested, 4Gi limit), above the ONNX/Caffe ones."""
    m = rendered["default"]
    caffe = container(m.get("Deployment", name("frontend-caffe")))["resources"]
    for conv in ("frontend-tf", "frontend-tf-legacy", "backend-tf"):
        res = container(m.get("Deployment", name(conv)))["resources"]
        assert quantity(res["requests"]["memory"]) >= 2 * 2**30, conv
        assert 4 * 2**30 <= quantity(res["limits"]["memory"]) <= 8 * 2**30, conv
        assert quantity(res["requests"]["cpu"]) >= 1, conv
        assert quantity(res["requests"]["memory"]) > quantity(caffe["requests"]["memory"])


@pytest.mark.parametrize("case", CASES)
def test_no_service_account_token_anywhere(rendered, case):
    m = rendered[case]
    accounts = {sa["metadata"]["name"]: sa for sa in m.of("ServiceAccount")}
    for sa in accounts.values():
        assert sa["automountServiceAccountToken"] is False, sa["metadata"]["name"]
    for w in m.workloads():
        spec = pod_spec(w)
        assert spec["automountServiceAccountToken"] is False, w["metadata"]["name"]
        assert spec["serviceAccountName"] in accounts, w["metadata"]["name"]


# -- scaling ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_pdb_per_converter_and_hpa_when_autoscaling(rendered, case):
    m = rendered[case]
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in m.of("HorizontalPodAutoscaler")}
    for dep in converter_deployments(m):
        dname = dep["metadata"]["name"]
        pdbs = [p for p in m.of("PodDisruptionBudget")
                if selects(p["spec"]["selector"], pod_labels(dep))]
        assert len(pdbs) == 1, dname
        assert p_allows_one_down(pdbs[0], dep, hpas.get(dname))
        if EXPECTED[case]["autoscaling"]:
            hpa = hpas[dname]
            assert hpa["apiVersion"] == "autoscaling/v2"
            assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
            assert 1 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
            assert any(mt["resource"]["name"] == "cpu" for mt in hpa["spec"]["metrics"])
            assert "replicas" not in dep["spec"], f"{dname}: HPA owns replicas"
        else:
            assert dname not in hpas
            assert dep["spec"]["replicas"] >= 1
    for pdb in m.of("PodDisruptionBudget"):
        assert pdb["apiVersion"] == "policy/v1"


def p_allows_one_down(pdb: dict, dep: dict, hpa: dict | None) -> bool:
    """A PDB that never lets a node drain (minAvailable >= replicas) would be a trap."""
    spec = pdb["spec"]
    if "maxUnavailable" in spec:
        return spec["maxUnavailable"] not in (0, "0", "0%")
    replicas = hpa["spec"]["minReplicas"] if hpa else dep["spec"]["replicas"]
    return int(spec["minAvailable"]) < replicas


# -- network policies -------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES)
def test_only_gateway_pods_reach_converters_and_storage(rendered, case):
    m = rendered[case]
    gw_labels = pod_labels(gateway(m))
    stranger = {"app.kubernetes.io/name": "something-else", "app": "curl"}
    targets = converter_deployments(m) + m.of("StatefulSet")
    assert targets
    for t in targets:
        tname, labels = t["metadata"]["name"], pod_labels(t)
        policies = [p for p in m.of("NetworkPolicy") if selects(p["spec"]["podSelector"], labels)]
        assert policies, f"{tname}: no NetworkPolicy isolates it"
        gateway_allowed = False
        for p in policies:
            assert "Ingress" in p["spec"]["policyTypes"]
            for rule in p["spec"].get("ingress", []):
                peers = rule.get("from")
                assert peers, f"{tname}: an ingress rule without 'from' admits every pod"
                for peer in peers:
                    assert set(peer) == {"podSelector"}, f"{tname}: {peer} reaches beyond pods"
                    sel = peer["podSelector"]
                    assert not selects(sel, stranger), f"{tname}: {sel} admits other apps"
                    for other in converter_deployments(m):
                        if other is not t:
                            assert not selects(sel, pod_labels(other)), (tname, sel)
                    own = selects(sel, labels) and t["kind"] == "StatefulSet"
                    assert selects(sel, gw_labels) or own, f"{tname}: {sel}"
                    gateway_allowed |= selects(sel, gw_labels)
        assert gateway_allowed, f"{tname}: the gateway cannot reach it"


def test_gateway_ingress_is_open_on_its_port_or_to_configured_peers(rendered):
    for case, want_from in (("default", None), ("production", "ingress-nginx")):
        m = rendered[case]
        gw = gateway(m)
        (pol,) = [p for p in m.of("NetworkPolicy")
                  if selects(p["spec"]["podSelector"], pod_labels(gw))]
        (rule,) = pol["spec"]["ingress"]
        assert [p["port"] for p in rule["ports"]] == ["grpc"]
        if want_from is None:
            assert "from" not in rule
        else:
            (peer,) = rule["from"]
            ns = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            assert ns == want_from


# -- storage ----------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_storage_credentials_reach_only_the_gateway_by_secret_ref(rendered, case):
    m = rendered[case]
    env = env_of(container(gateway(m)))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        assert "value" not in env[key] and env[key]["valueFrom"]["secretKeyRef"]["name"]
    for dep in converter_deployments(m):
        assert not [k for k in env_of(container(dep)) if k.startswith("AWS_")]
    if EXPECTED[case]["storage"] == "bundled":
        (sts,) = m.of("StatefulSet")
        svc = m.get("Service", sts["metadata"]["name"])
        port = svc["spec"]["ports"][0]["port"]
        assert env["AWS_ENDPOINT_URL"]["value"] == (
            f"http://{svc['metadata']['name']}.{NAMESPACE}.svc.cluster.local:{port}")
        c = container(sts)
        assert c["readinessProbe"]["httpGet"]["port"] == "s3"
        args = " ".join(c["args"])
        assert "-ip.bind=0.0.0.0" in args and "-master.telemetry=false" in args
        assert sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
        secret_name = env["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"]["name"]
        config = [v for v in pod_spec(sts)["volumes"] if v["name"] == "config"][0]
        assert config["secret"]["secretName"] == secret_name
    else:
        assert not m.of("StatefulSet") and not m.of("Secret")
        assert env["AWS_ENDPOINT_URL"]["value"] == "https://minio.storage.svc.cluster.local:9000"
        ref = env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "nnrosetta-s3", "key": "secret-key"}


def test_bundled_credentials_secret_and_checksum_rolls_the_pods():
    a = render(sets=["storage.bundled.credentials.accessKey=AK1",
                     "storage.bundled.credentials.secretKey=SK1"])
    b = render(sets=["storage.bundled.credentials.accessKey=AK1",
                     "storage.bundled.credentials.secretKey=SK2"])
    secret = a.get("Secret", name("seaweedfs"))["data"]
    assert base64.b64decode(secret["AWS_SECRET_ACCESS_KEY"]).decode() == "SK1"
    ident = json.loads(base64.b64decode(secret["s3.json"]))["identities"][0]
    assert ident["credentials"] == [{"accessKey": "AK1", "secretKey": "SK1"}]
    for kind, comp in (("Deployment", "gateway"), ("StatefulSet", "seaweedfs")):
        ann = [w["spec"]["template"]["metadata"]["annotations"]["checksum/storage"]
               for w in (a.get(kind, name(comp)), b.get(kind, name(comp)))]
        assert ann[0] != ann[1], f"{comp}: a new secret key must roll the pods"
    same = render(sets=["storage.bundled.credentials.accessKey=AK1",
                        "storage.bundled.credentials.secretKey=SK1"])
    assert (same.get("Deployment", name("gateway"))["spec"]["template"]["metadata"]
            == a.get("Deployment", name("gateway"))["spec"]["template"]["metadata"])


# -- TLS and tokens ---------------------------------------------------------------------------


def mounted_secret(workload: dict, path: str) -> str:
    """The Secret a file path in the container comes from (read-only mount), or fail."""
    spec = pod_spec(workload)
    c = container(workload)
    mounts = [v for v in c["volumeMounts"] if path.startswith(v["mountPath"].rstrip("/") + "/")]
    assert len(mounts) == 1, f"{path} is not under one mount"
    assert mounts[0].get("readOnly") is True, f"{path}: mount is writable"
    vol = {v["name"]: v for v in spec["volumes"]}[mounts[0]["name"]]
    rel = path[len(mounts[0]["mountPath"].rstrip("/")) + 1:]
    items = vol["secret"].get("items")
    assert items is None or rel in {i["path"] for i in items}, f"{path} not projected"
    return vol["secret"]["secretName"]


def test_mtls_and_token_auth_in_production(rendered):
    m = rendered["production"]
    for dep in converter_deployments(m):
        env = env_of(container(dep))
        for var in ("NNROSETTA_TLS_CERT", "NNROSETTA_TLS_KEY", "NNROSETTA_TLS_CLIENT_CA"):
            assert mounted_secret(dep, env[var]["value"]) == "nnrosetta-converters-tls", var
        assert dep["spec"]["template"]["metadata"]["annotations"]["checksum/tls"]
    gw = gateway(m)
    env = env_of(container(gw))
    for var in ("NNROSETTA_CONVERTER_TLS_CA", "NNROSETTA_CONVERTER_TLS_CERT",
                "NNROSETTA_CONVERTER_TLS_KEY"):
        assert mounted_secret(gw, env[var]["value"]) == "nnrosetta-gateway-client-tls", var
    for var in ("NNROSETTA_TLS_CERT", "NNROSETTA_TLS_KEY"):
        assert mounted_secret(gw, env[var]["value"]) == "nnrosetta-gateway-tls", var
    tokens = env["NNROSETTA_AUTH_TOKENS_FILE"]["value"]
    assert mounted_secret(gw, tokens) == "nnrosetta-gateway-tokens"
    (ing,) = m.of("Ingress")
    backend = ing["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": name("gateway"), "port": {"name": "grpc"}}
    assert ing["metadata"]["annotations"]["nginx.ingress.kubernetes.io/backend-protocol"] == "GRPCS"
    assert ing["spec"]["tls"][0]["secretName"]


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_features_switch_with_the_values(rendered, case):
    m, want = rendered[case], EXPECTED[case]
    env = env_of(container(gateway(m)))
    assert bool(m.of("Ingress")) == want["ingress"]
    assert ("NNROSETTA_AUTH_TOKENS_FILE" in env) == want["auth"]
    assert ("NNROSETTA_CONVERTER_TLS_CA" in env) == want["tls"]
    assert bool(m.of("HorizontalPodAutoscaler")) == want["autoscaling"]
    assert bool(m.of("StatefulSet")) == (want["storage"] == "bundled")


def test_default_has_no_tls_no_tokens_no_ingress(rendered):
    m = rendered["default"]
    assert not m.of("Ingress")
    for w in [gateway(m), *converter_deployments(m)]:
        env = env_of(container(w))
        assert not [k for k in env if "TLS" in k or "AUTH" in k], w["metadata"]["name"]
        assert all("secret" not in v for v in pod_spec(w)["volumes"])


def test_mtls_alone_moves_converter_probes_to_the_health_port():
    m = render(sets=["tls.enabled=true", "tls.converters.existingSecret=conv-tls",
                     "tls.gatewayClient.existingSecret=gw-client",
                     "converterDefaults.healthPort=9090"])
    for dep in converter_deployments(m):
        c = container(dep)
        assert c["livenessProbe"]["grpc"]["port"] == 9090
        assert env_of(c)["NNROSETTA_HEALTH_PORT"]["value"] == "9090"
        assert mounted_secret(dep, env_of(c)["NNROSETTA_TLS_KEY"]["value"]) == "conv-tls"
    gw = container(gateway(m))
    # the gateway's own server stays plaintext: probes on its gRPC port
    assert gw["livenessProbe"]["grpc"]["port"] == container_ports(gw)["grpc"]
    assert "NNROSETTA_CONVERTER_TLS_CERT" in env_of(gw)


@pytest.mark.parametrize("sets, message", [
    (["storage.external.enabled=true"], "not both"),
    (["storage.bundled.enabled=false", "storage.external.enabled=true"],
     "storage.external.existingSecret"),
    (["tls.enabled=true"], "tls.gatewayClient.existingSecret"),
    (["tls.enabled=true", "tls.gatewayClient.existingSecret=x"], "tls.converters.existingSecret"),
    (["auth.enabled=true"], "auth.existingSecret"),
    ([f"converters.{c}.enabled=false" for c in sorted(CONVERTERS)], "at least one converter"),
])
def test_inconsistent_values_are_refused(helm_check, sets, message):
    res = template(sets=sets)
    assert res.returncode != 0 and message in res.stderr, res.stderr


def test_values_files_parse_and_the_chart_ships_both_converters():
    chart_values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert set(chart_values["converters"]) == CONVERTERS
    for f in values_files():
        assert isinstance(yaml.safe_load(f.read_text()), dict), f
