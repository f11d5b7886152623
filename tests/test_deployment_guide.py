"""docs/deployment.md: the command blocks marked *tested* run exactly as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.zoo.build import build

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "deployment.md"


def guide_blocks() -> list[str]:
    text = GUIDE.read_text()
    return re.findall(r"^\*tested\*\n```bash\n(.*?)^```", text, flags=re.M | re.S)


def run_block(block: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_the_guide_marks_its_blocks():
    blocks = guide_blocks()
    assert len(blocks) == 2, blocks
    assert "nnrosetta up" in blocks[0] and "nnrosetta down" in blocks[0]
    assert "helm-check.sh" in blocks[1]


@pytest.mark.integration
def test_local_stack_block(tmp_path):
    prototxt, caffemodel = build("lenet")
    models = tmp_path / "models"
    models.mkdir()
    (models / "lenet.prototxt").symlink_to(prototxt)
    (models / "lenet.caffemodel").symlink_to(caffemodel)
    env = {k: v for k, v in os.environ.items() if k not in ("NNROSETTA_GATEWAY", "PYTHONPATH")}
    env.update(NNROSETTA_STATE_DIR=str(tmp_path / "state"), MODELS=str(models),
               OUT=str(tmp_path / "out"))
    r = run_block(guide_blocks()[0], env, 600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    out = tmp_path / "out" / "lenet"
    assert {p.name for p in out.iterdir()} == {"model.py", "weights.pth",
                                               "model.torchscript.pt", "report.json"}
    report = json.loads((out / "report.json").read_text())
    assert report["verification"]["status"] == "passed"
    onnx_out = tmp_path / "out" / "lenet-onnx"
    assert {"model.onnx", "model.txt", "report.json"} <= {p.name for p in onnx_out.iterdir()}
    back = json.loads((tmp_path / "out" / "lenet-from-onnx" / "report.json").read_text())
    assert back["verification"]["status"] == "passed"
    assert back["verification"]["source_runtime"]["runtime"].startswith("onnxruntime")
    assert "stopped" in r.stdout                      # down stopped what up started
    assert not (tmp_path / "state" / "stack.json").exists()


def test_helm_block():
    r = run_block(guide_blocks()[1], dict(os.environ), 600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "all 3 values files passed" in r.stdout
