"""One proto root; generated code matches it and imports in every service's environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/requirements.txt"))


def test_generated_code_matches_protos():
    r = subprocess.run(["bash", str(ROOT / "scripts/gen_protos.sh"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("service", SERVICES)
def test_generated_code_imports_in_service_env(service):
    py = ROOT / ".venvs" / service / "bin" / "python"
    if not py.exists():
        pytest.fail(f"{py} missing: build it with `nnrosetta up` or scripts/ci_setup.sh")
    code = ("import google.protobuf as p; from nnrosetta.proto import ir_pb2, converter_pb2, "
            "converter_pb2_grpc, gateway_pb2, gateway_pb2_grpc, caffe_pb2; "
            "print(p.__version__)")
    r = subprocess.run([str(py), "-c", code], capture_output=True, text=True,
                       env={**os.environ, "PYTHONWARNINGS": "error::UserWarning"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()


def test_service_protobuf_runtimes_differ():
    """The point of generating with an old protoc: services pin different runtimes."""
    versions = {}
    for service in SERVICES:
        py = ROOT / ".venvs" / service / "bin" / "python"
        r = subprocess.run([str(py), "-c", "import google.protobuf as p; print(p.__version__)"],
                           capture_output=True, text=True)
        versions[service] = r.stdout.strip()
    assert len({v.split(".")[0] for v in versions.values()}) >= 2, versions


def test_wire_format_is_python_runtime_independent():
    from nnrosetta.proto import ir_pb2
    g = ir_pb2.GraphDef(version=1)
    g.node.add(name="x", op="Input")
    assert ir_pb2.GraphDef.FromString(g.SerializeToString()) == g
    assert sys.version_info >= (3, 10)
