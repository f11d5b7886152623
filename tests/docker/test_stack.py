"""The containerised stack end to end (docker/compose.yaml on a Docker engine started here):
a real Caffe -> PyTorch conversion through the gateway container with the models in the
SeaweedFS container's S3, and Keras 3 / Keras 2 models through the TensorFlow containers; each
converter container runs its own pinned versions of the shared dependencies (numpy, protobuf)
and of its framework (TensorFlow 2.21 and 2.15 side by side); every service really runs in its
container, as non-root, with an init process that stops it on SIGTERM."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from tests.docker.conftest import ROOT, SERVICES, DockerStack
from tests.integration.helpers import (
    download,
    keys,
    opencv_forward,
    scaled_error,
    torch_forward,
    upload,
)
from tests.zoo.build import MODELS, build

pytestmark = pytest.mark.docker

TOLERANCE = 1e-4
OUTPUTS = {"model.py", "weights.pth", "model.torchscript.pt", "report.json"}
CONVERTERS = tuple(s for s in SERVICES if s not in ("seaweedfs", "gateway"))
MODULES = {s: "nnrosetta_" + s.replace("-", "_") for s in SERVICES if s != "seaweedfs"}
# Beyond numpy and protobuf (every converter): what a converter reports in Describe.versions ->
# the distribution its lock file pins (torch is left out: it reports "2.13.0+cpu").
FRAMEWORK_DISTS = {
    "frontend-onnx": {"onnx": "onnx", "onnxruntime": "onnxruntime"},
    "backend-onnx": {"onnx": "onnx", "onnxruntime": "onnxruntime"},
    "frontend-tf": {"tensorflow": "tensorflow-cpu", "keras": "keras"},
    "frontend-tf-legacy": {"tensorflow": "tensorflow-cpu", "keras": "keras"},
    "backend-tf": {"tensorflow": "tensorflow-cpu", "keras": "keras"},
}
# run by the container's own interpreter: the versions it imports (numpy, protobuf) and the
# installed distributions (importlib.metadata: no TensorFlow import needed)
IN_CONTAINER = """\
import json, sys
from importlib.metadata import version
import google.protobuf, numpy
got = {"numpy": numpy.__version__, "protobuf": google.protobuf.__version__}
got.update({k: version(d) for k, d in json.loads(sys.argv[1]).items()})
print(json.dumps(got))
"""


def pins(service: str) -> dict[str, str]:
    """Exact pins of services/<service>/requirements.txt (the lock the image is built from)."""
    out = {}
    for line in (ROOT / "services" / service / "requirements.txt").read_text().splitlines():
        m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*==\s*([^\s;#]+)", line)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def test_resnet50_caffe_to_pytorch_through_the_containers(docker_stack: DockerStack, tmp_path):
    from nnrosetta.client import GatewayClient

    s3 = docker_stack.s3
    bucket = f"nnr-docker-{uuid.uuid4().hex[:8]}"
    s3.client().create_bucket(Bucket=bucket)
    info = MODELS["resnet50"]
    prototxt, caffemodel = build("resnet50")
    src = upload(s3, bucket, "src/resnet50", {"network": prototxt, "weights": caffemodel})
    events = []
    with GatewayClient(docker_stack.gateway_address) as gw:
        res = gw.convert("caffe", src, "pytorch", f"s3://{bucket}/out/resnet50",
                         on_event=events.append)

    rep = res.report
    v = rep["verification"]
    assert res.verified, v
    assert v["status"] == "passed"
    assert v["tolerance"] == TOLERANCE
    assert v["outputs"], v
    for o in v["outputs"]:
        assert o["pass"] and o["error_relative_to_scale"] <= TOLERANCE, o
    pre = {o["source_name"]: o for o in v["pre_softmax"]}
    assert pre[info.pre_softmax]["pass"], pre
    assert v["source_runtime"]["runtime"].startswith("opencv-dnn")
    assert v["target_runtime"]["service"] == "backend-pytorch"
    assert [h["action"] for h in rep["hops"]] == ["ToIR", "FromIR"]
    # the containers share a volume, and prove it (token files): files went by path
    assert [h["transport"] for h in rep["hops"]] == ["shared-folder", "shared-folder"]
    assert rep["frameworks"]["backend-pytorch"]["framework_version"] == "2.13.0+cpu"
    assert {e.WhichOneof("event") for e in events} == {"plan", "progress", "result"}

    # the outputs are in the container's S3, and the stored report is the one returned
    prefix = "out/resnet50"
    assert {k.rsplit("/", 1)[1] for k in keys(s3, bucket, prefix)} == OUTPUTS
    got = download(s3, bucket, prefix, ["model.py", "weights.pth", "report.json"], tmp_path)
    stored = json.loads(Path(got["report.json"]).read_text())
    assert stored["verification"]["status"] == "passed"
    assert stored["verification"]["outputs"] == v["outputs"]

    # independent of the gateway: OpenCV here vs the generated code loaded as a user would
    rng = np.random.default_rng(7)
    feeds = {k: rng.standard_normal(s).astype(np.float32) for k, s in info.inputs.items()}
    ref = opencv_forward(prototxt, caffemodel, feeds, [info.output])
    outs, _, _ = torch_forward(got["model.py"], got["weights.pth"], list(feeds.values()))
    assert scaled_error(ref[info.output], outs[0]) <= TOLERANCE


@pytest.mark.parametrize("fmt, frontend", [("keras", "frontend-tf"),
                                           ("legacy_h5", "frontend-tf-legacy")])
def test_keras_model_through_the_tf_containers(docker_stack: DockerStack, fmt: str,
                                               frontend: str):
    """A Keras 3 .keras file goes to frontend-tf's container, a Keras-2 .h5 (written by
    TensorFlow 2.15 in .venvs/frontend-tf-legacy) to frontend-tf-legacy's: the gateway reads
    which Keras saved it. backend-tf's container writes Keras 3 again, and the verification
    runs TensorFlow in both containers."""
    from nnrosetta.client import GatewayClient
    from tests.keras_zoo import models as kz

    path = kz.ensure("mobilenetv2", fmt, input_shape=(32, 32, 3))
    s3 = docker_stack.s3
    bucket = f"nnr-docker-{uuid.uuid4().hex[:8]}"
    s3.client().create_bucket(Bucket=bucket)
    src = upload(s3, bucket, f"src/{fmt}", {"network": path})
    with GatewayClient(docker_stack.gateway_address) as gw:
        res = gw.convert("keras", src, "keras", f"s3://{bucket}/out/{fmt}")

    rep = res.report
    v = rep["verification"]
    assert res.verified and v["status"] == "passed", v
    for o in v["outputs"]:
        assert o["pass"] and o["error_relative_to_scale"] <= TOLERANCE, o
    assert [(h["service"], h["action"]) for h in rep["hops"]] == [
        (frontend, "ToIR"), ("backend-tf", "FromIR")]
    assert [h["transport"] for h in rep["hops"]] == ["shared-folder", "shared-folder"]
    want_tf = expected_versions(frontend)["tensorflow"]
    assert v["source_runtime"]["runtime"].startswith(f"TensorFlow {want_tf}"), v
    assert v["target_runtime"]["service"] == "backend-tf"
    assert "report.json" in {k.rsplit("/", 1)[1] for k in keys(s3, bucket, f"out/{fmt}")}


def expected_versions(service: str) -> dict[str, str]:
    """What <service> must report: numpy, protobuf and its framework, from its lock file."""
    pinned = pins(service)
    dists = {"numpy": "numpy", "protobuf": "protobuf", **FRAMEWORK_DISTS.get(service, {})}
    return {k: pinned[d] for k, d in dists.items()}


def test_each_converter_container_runs_its_own_pinned_versions(docker_stack: DockerStack):
    import grpc

    from nnrosetta.client import GatewayClient
    from nnrosetta.proto import converter_pb2 as cpb
    from nnrosetta.proto import converter_pb2_grpc as cpb_grpc

    expected = {svc: expected_versions(svc) for svc in CONVERTERS}
    # the point of the test: several containers, several versions of the same packages
    assert expected["frontend-caffe"]["numpy"] != expected["backend-pytorch"]["numpy"]
    assert expected["frontend-caffe"]["protobuf"] != expected["backend-pytorch"]["protobuf"]
    # and two TensorFlows side by side: 2.15 with Keras 2 (protobuf 4, numpy 1) next to Keras 3
    legacy, tf = expected["frontend-tf-legacy"], expected["frontend-tf"]
    assert legacy["tensorflow"].startswith("2.15.") and legacy["keras"].startswith("2.")
    assert legacy["protobuf"].startswith("4.") and legacy["numpy"].startswith("1.")
    assert tf["keras"].startswith("3.")
    assert all(legacy[k] != tf[k] for k in ("tensorflow", "keras", "numpy", "protobuf")), (
        legacy, tf)

    with GatewayClient(docker_stack.gateway_address) as gw:
        listed = {c.name: c for c in gw.converters()}
    assert set(CONVERTERS) <= set(listed), listed.keys()
    for svc in CONVERTERS:
        c = listed[svc]
        assert c.serving and c.address == docker_stack.converter_addresses[svc]
        assert {k: c.versions[k] for k in expected[svc]} == expected[svc], (svc, c.versions)
        # the same, asked of the converter itself
        with grpc.insecure_channel(docker_stack.converter_addresses[svc]) as ch:
            d = cpb_grpc.ConverterStub(ch).Describe(cpb.DescribeRequest(), timeout=10)
        assert d.name == svc
        assert {k: d.versions[k] for k in expected[svc]} == expected[svc], (svc, d.versions)
        # and inside the container, from the image's own interpreter
        out = docker_stack.docker(
            "exec", docker_stack.container(svc), "python", "-c", IN_CONTAINER,
            json.dumps(FRAMEWORK_DISTS.get(svc, {}))).stdout
        assert json.loads(out) == expected[svc], svc


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f[9])
    return inodes


def _host_pids(stack: DockerStack, service: str) -> list[int]:
    out = stack.docker("top", stack.container(service), "-eo", "pid,args").stdout
    return [int(line.split()[0]) for line in out.splitlines()[1:] if line.strip()]


@pytest.mark.parametrize("service", [s for s in SERVICES if s != "seaweedfs"])
def test_service_runs_in_its_container(docker_stack: DockerStack, service: str):
    """The process that listens on the service's port is the one in the container (its host
    PID is among the container's processes and holds the listening socket), in the container's
    own mount namespace, from the service's image."""
    cid = docker_stack.container(service)
    info = json.loads(docker_stack.docker("inspect", cid).stdout)[0]
    assert info["State"]["Running"]
    assert info["Config"]["Image"].startswith(f"nnrosetta/{service}:")
    assert info["HostConfig"]["Init"] is True
    top = docker_stack.docker("top", cid, "-eo", "pid,args").stdout
    assert f"python -m {MODULES[service]}" in top, top
    addr = (docker_stack.gateway_address if service == "gateway"
            else docker_stack.converter_addresses[service])
    inodes = _listening_inodes(int(addr.rsplit(":", 1)[1]))
    assert inodes, f"nothing listens on {addr}"
    owners = []
    for pid in _host_pids(docker_stack, service):
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            links = {str(p.readlink()) for p in fd_dir.iterdir()}
        except OSError:
            continue
        if any(f"socket:[{i}]" in links for i in inodes):
            owners.append(pid)
    assert owners, f"no process of the {service} container holds the socket on {addr}"
    mnt = Path(f"/proc/{owners[0]}/ns/mnt").readlink()
    assert mnt != Path("/proc/self/ns/mnt").readlink(), "runs in the host's mount namespace"


@pytest.mark.parametrize("service", SERVICES)
def test_images_run_as_non_root(docker_stack: DockerStack, service: str):
    cid = docker_stack.container(service)
    info = json.loads(docker_stack.docker("inspect", cid).stdout)[0]
    assert info["Config"]["User"] == "10001:10001"
    assert info["HostConfig"]["ReadonlyRootfs"] is True
    assert docker_stack.docker("exec", cid, "id", "-u").stdout.strip() == "10001"
    assert docker_stack.health(service) == "running/healthy"


def test_sigterm_stops_a_service_promptly(docker_stack: DockerStack):
    """With init: true the service (not PID 1) gets SIGTERM from the init process and stops by
    itself well before docker's grace period ends; then it comes back healthy."""
    svc = "frontend-caffe"
    cid = docker_stack.container(svc)
    t0 = time.monotonic()
    docker_stack.docker("stop", "--time", "30", cid)
    took = time.monotonic() - t0
    state = json.loads(docker_stack.docker("inspect", cid).stdout)[0]["State"]
    assert took < 15, f"docker stop took {took:.1f} s: SIGTERM was not acted on"
    assert state["ExitCode"] in (0, 143), state
    docker_stack.docker("start", cid)
    docker_stack.wait_healthy(svc)
