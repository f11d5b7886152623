"""The containerised stack for tests/docker: a Docker engine started by hand
(scripts/docker-engine.sh), every image built (scripts/docker-build.sh; cached layers make a
rebuild quick), and docker/compose.yaml brought up (scripts/compose.sh) as a project of its own
on free ports with fresh S3 credentials, so it never meets the local stack, the other tests'
SeaweedFS or a stack someone brought up with scripts/compose.sh. Torn down at the end of the
session, also when a test or the start itself fails.

No Docker on the machine (scripts/setup-system.sh not run, or not root): the tests skip, unless
NNROSETTA_REQUIRE_DOCKER=1 (CI), where they fail. NNROSETTA_DOCKER_SKIP_BUILD=1 uses the images
as they are (built when missing)."""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.seaweedfs import S3Endpoint

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
# docker/compose.yaml's converter services -> the variable of their port
CONVERTER_PORTS = {
    "frontend-caffe": "NNROSETTA_CAFFE_PORT",
    "backend-pytorch": "NNROSETTA_PYTORCH_PORT",
    "frontend-onnx": "NNROSETTA_ONNX_FRONTEND_PORT",
    "backend-onnx": "NNROSETTA_ONNX_BACKEND_PORT",
    "frontend-tf": "NNROSETTA_TF_FRONTEND_PORT",
    "frontend-tf-legacy": "NNROSETTA_TF_LEGACY_PORT",
    "backend-tf": "NNROSETTA_TF_BACKEND_PORT",
}
SERVICES = ("seaweedfs", *CONVERTER_PORTS, "gateway")
# docker/compose.yaml's port variables
PORT_VARS = (
    "NNROSETTA_GATEWAY_PORT", *CONVERTER_PORTS.values(),
    "NNROSETTA_S3_PORT", "NNROSETTA_WEED_S3_GRPC_PORT", "NNROSETTA_WEED_MASTER_PORT",
    "NNROSETTA_WEED_MASTER_GRPC_PORT", "NNROSETTA_WEED_VOLUME_PORT",
    "NNROSETTA_WEED_VOLUME_GRPC_PORT", "NNROSETTA_WEED_FILER_PORT",
    "NNROSETTA_WEED_FILER_GRPC_PORT", "NNROSETTA_WEED_ADMIN_PORT",
    "NNROSETTA_WEED_ADMIN_GRPC_PORT",
)
TIMINGS: dict[str, float] = {}


def free_ports(n: int) -> list[int]:
    socks, ports = [], []
    try:
        while len(ports) < n:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            p = s.getsockname()[1]
            if p + 10000 < 65536:  # weed's habit of "+10000" for gRPC ports never matters
                ports.append(p)
    finally:
        for s in socks:
            s.close()
    return ports


def run(cmd: list[str], env: dict[str, str], timeout: float, check: bool = True,
        what: str = "") -> subprocess.CompletedProcess:
    p = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"{what or ' '.join(cmd)} failed ({p.returncode}):\n"
                           f"{p.stdout[-4000:]}\n{p.stderr[-4000:]}")
    return p


@dataclass
class DockerStack:
    env: dict[str, str]
    project: str
    gateway_address: str
    converter_addresses: dict[str, str]
    s3: S3Endpoint
    containers: dict[str, str] = field(default_factory=dict)

    def compose(self, *args: str, timeout: float = 120, check: bool = True):
        return run(["bash", str(SCRIPTS / "compose.sh"), *args], self.env, timeout, check)

    def docker(self, *args: str, timeout: float = 60, check: bool = True):
        return run(["docker", *args], self.env, timeout, check)

    def container(self, service: str) -> str:
        if service not in self.containers:
            ids = self.compose("ps", "-q", service).stdout.split()
            assert ids, f"no container for {service}"
            self.containers[service] = ids[0]
        return self.containers[service]

    def health(self, service: str) -> str:
        return self.docker("inspect", "-f", "{{.State.Status}}/{{.State.Health.Status}}",
                           self.container(service)).stdout.strip()

    def wait_healthy(self, service: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while (status := self.health(service)) != "running/healthy":
            assert time.monotonic() < deadline, f"{service}: {status} after {timeout:.0f} s"
            time.sleep(1)


def _docker_available() -> str | None:
    """Why Docker cannot be used here, or None."""
    if not (shutil.which("dockerd") or os.path.exists("/usr/sbin/dockerd")):
        return "no dockerd (run scripts/setup-system.sh)"
    if not (shutil.which("docker-compose") or shutil.which("docker")):
        return "no docker CLI / docker-compose (run scripts/setup-system.sh)"
    if os.geteuid() != 0:
        return "dockerd is started by hand here and needs root"
    return None


@pytest.fixture(scope="session")
def docker_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerStack]:
    why = _docker_available()
    if why:
        if os.environ.get("NNROSETTA_REQUIRE_DOCKER") == "1":
            pytest.fail(f"NNROSETTA_REQUIRE_DOCKER=1 but {why}")
        pytest.skip(why)
    env = dict(os.environ)
    t0 = time.monotonic()
    p = run(["bash", str(SCRIPTS / "docker-engine.sh"), "start"], env, 120, what="engine start")
    started_engine = "reusing" not in p.stderr
    for line in p.stdout.splitlines():
        if line.startswith("export DOCKER_HOST="):
            env["DOCKER_HOST"] = line.split("=", 1)[1]
    TIMINGS["engine start"] = time.monotonic() - t0
    try:
        t0 = time.monotonic()
        if os.environ.get("NNROSETTA_DOCKER_SKIP_BUILD") != "1":
            run(["bash", str(SCRIPTS / "docker-build.sh")], env, 3600, what="docker-build.sh")
        TIMINGS["image builds"] = time.monotonic() - t0

        ports = dict(zip(PORT_VARS, free_ports(len(PORT_VARS)), strict=True))
        access, secret = "nnr" + secrets.token_hex(6), secrets.token_hex(20)
        project = f"nnrosetta-test-{os.getpid()}"
        env.update({k: str(v) for k, v in ports.items()})
        env.update({"NNROSETTA_COMPOSE_PROJECT": project, "NNROSETTA_HOST": "127.0.0.1",
                    "NNROSETTA_S3_ACCESS_KEY": access, "NNROSETTA_S3_SECRET_KEY": secret,
                    "NNROSETTA_UP_TIMEOUT": "300"})
        stack = DockerStack(
            env=env, project=project,
            gateway_address=f"127.0.0.1:{ports['NNROSETTA_GATEWAY_PORT']}",
            converter_addresses={svc: f"127.0.0.1:{ports[var]}"
                                 for svc, var in CONVERTER_PORTS.items()},
            s3=S3Endpoint(f"http://127.0.0.1:{ports['NNROSETTA_S3_PORT']}", access, secret))
        try:
            t0 = time.monotonic()
            stack.compose("up", timeout=900)
            TIMINGS["compose up"] = time.monotonic() - t0
            yield stack
        finally:
            t0 = time.monotonic()
            logs = stack.compose("logs", "--no-color", "--tail", "200", check=False).stdout
            (tmp_path_factory.getbasetemp() / f"{project}.log").write_text(logs)
            stack.compose("down", "-v", "--timeout", "20", timeout=300, check=False)
            TIMINGS["compose down"] = time.monotonic() - t0
    finally:
        if started_engine and os.environ.get("NNROSETTA_DOCKER_KEEP_ENGINE") != "1":
            run(["bash", str(SCRIPTS / "docker-engine.sh"), "stop"], env, 120, check=False)


def pytest_terminal_summary(terminalreporter) -> None:
    if TIMINGS:
        terminalreporter.write_sep("-", "tests/docker timings")
        for k, v in TIMINGS.items():
            terminalreporter.write_line(f"{k:>16}: {v:6.1f} s")
