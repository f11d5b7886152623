"""The CLI as a user runs it: MMdnn's flags, no gateway given, so it starts the local stack
itself (each service from its own environment), shows progress, writes the outputs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.zoo.build import build

ROOT = Path(__file__).resolve().parents[2]
CLI = [str(ROOT / ".venv" / "bin" / "nnrosetta")]


def run(args, state=None, **kw):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if state is not None:
        env["NNROSETTA_STATE_DIR"] = str(state)
    return subprocess.run(CLI + args, capture_output=True, text=True, env=env, timeout=900, **kw)


@pytest.mark.integration
def test_convert_with_mmdnn_flags(tmp_path):
    prototxt, caffemodel = build("lenet")
    out = tmp_path / "out"
    r = run(["convert", "-sf", "caffe", "-in", str(prototxt), "-iw", str(caffemodel),
             "-df", "pytorch", "-om", str(out)])
    assert r.returncode == 0, r.stdout + r.stderr
    assert {p.name for p in out.iterdir()} == {"model.py", "weights.pth", "model.torchscript.pt",
                                               "report.json"}
    report = json.loads((out / "report.json").read_text())
    assert report["verification"]["status"] == "passed"
    # progress was visible while it worked
    assert "frontend-caffe" in r.stderr and "backend-pytorch" in r.stderr
    assert "PASS" in r.stdout + r.stderr


@pytest.mark.integration
def test_cli_reports_bad_input(tmp_path):
    prototxt, caffemodel = build("lenet")
    bad = tmp_path / "bad.prototxt"
    bad.write_text(prototxt.read_text() + '\nlayer { name: "x" type: "Nope" bottom: "ip2" '
                   'top: "x" }\n')
    out = tmp_path / "out"
    r = run(["convert", "-sf", "caffe", "-in", str(bad), "-iw", str(caffemodel), "-df",
             "pytorch", "-om", str(out)])
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Nope" in r.stderr and "UNSUPPORTED_LAYER" in r.stderr
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.integration
def test_up_status_toir_tocode_down(tmp_path):
    prototxt, caffemodel = build("lenet")
    env_state = tmp_path / "state"
    try:
        r = run(["up"], env_state)
        assert r.returncode == 0, r.stdout + r.stderr
        r = run(["status"], env_state)
        assert r.returncode == 0 and "gateway" in r.stdout, r.stdout + r.stderr
        ir = tmp_path / "ir"
        r = run(["toir", "-f", "caffe", "-n", str(prototxt),
                 "-w", str(caffemodel), "-o", str(ir)], env_state)
        assert r.returncode == 0, r.stdout + r.stderr
        assert (ir / "graph.pb").exists() and (ir / "weights.npz").exists()
        code = tmp_path / "code"
        r = run(["tocode", "-f", "pytorch", "-n",
                 str(ir / "graph.pb"), "-w", str(ir / "weights.npz"), "-o", str(code)], env_state)
        assert r.returncode == 0, r.stdout + r.stderr
        assert (code / "model.py").exists()
        model = tmp_path / "model"
        r = run(["tomodel", "-f", "pytorch", "-n",
                 str(ir / "graph.pb"), "-w", str(ir / "weights.npz"), "-o", str(model)], env_state)
        assert r.returncode == 0, r.stdout + r.stderr
        assert (model / "model.torchscript.pt").exists()
    finally:
        r = run(["down"], env_state)
    assert r.returncode == 0, r.stdout + r.stderr
    assert sys.executable
