"""The legacy path: the same frontend code under TensorFlow 2.15 / Keras 2 (the
frontend-tf-legacy venv), in a subprocess: every layer case against Keras 2 itself, a Keras-2
.h5 and a Keras-2 SavedModel converted and run, a Lambda refused. Then the Keras-2 .h5 it
saved is converted here, by Keras 3, and compared with the output Keras 2 computed."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from nnrosetta.ir import registry
from tests.frontend_tf._cases import CASES, KERAS2_MODELS, MODELS
from tests.frontend_tf._keras import LEGACY, legacy_ready

ROOT = Path(__file__).resolve().parents[2]



pytestmark = pytest.mark.skipif(not legacy_ready(),
                                reason="the frontend-tf-legacy venv (TensorFlow 2.15) is not "
                                "built: scripts build it with the service venvs")


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    work = tmp_path_factory.mktemp("legacy")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": str(ROOT),
           "TF_NUM_INTRAOP_THREADS": "2", "TF_NUM_INTEROP_THREADS": "1"}
    r = subprocess.run([str(LEGACY), str(ROOT / "tests" / "frontend_tf" / "_legacy_driver.py"),
                        str(work)], capture_output=True, text=True, timeout=600, env=env,
                       cwd=str(ROOT))
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")]
    assert r.returncode == 0 and lines, r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads(lines[-1][len("RESULT "):])
    assert "error" not in res, res["error"]
    return res, work


def test_layer_cases_under_keras2(legacy):
    res, _ = legacy
    assert res["keras"].startswith("2.")
    cases = res["cases"]
    assert cases["failed"] == {}
    # only activations that Keras 2 does not have are skipped
    skipped = {s.split(":")[0] for s in cases["not_in_keras2"]}
    assert skipped <= {"act_celu", "act_hard_silu", "act_hard_tanh"}, skipped
    assert len(cases["ok"]) + len(skipped) == len(CASES) + len(MODELS) + len(KERAS2_MODELS)
    assert "tf_functions" in cases["ok"]           # TFOpLambda layers


def test_legacy_files(legacy):
    res, _ = legacy
    f = res["files"]
    assert f["describe"]["keras"].startswith("2.") and "TensorFlow 2.15" in f["describe"][
        "runtime"]
    for kind in ("h5", "savedmodel"):
        assert f[kind]["keras_file"] == kind
        assert f[kind]["ir_err"] <= 1e-4 and f[kind]["run_err"] <= 1e-5
        assert f[kind]["relu_shape"] == [2, 4, 8, 8]
    assert f["lambda"] == [["UNSAFE_LAYER", "plus_one"]]
    assert f["lambda_savedmodel"] == [["UNSAFE_LAYER", "plus_one"]]
    want = [["UNSUPPORTED_LAYER", "rnn"], ["UNSUPPORTED_LAYER", "td"]]
    assert f["unsupported_h5"] == want and f["unsupported_savedmodel"] == want


def test_keras2_recurrent_h5(legacy):
    """A Keras-2 .h5 with Embedding, Bidirectional LSTM and GRU converts under Keras 2 (the
    int32 input carried to the IR) and gives Keras 2's numbers."""
    res, _ = legacy
    r = res["files"]["recurrent_h5"]
    assert r["ir_err"] <= 1e-4, r
    assert r["input_dtype"] == "int32"
    assert {"Gather", "LSTM", "GRU"} <= set(r["ops"]), r["ops"]
    refused = res["files"]["recurrent_refused"]
    assert refused["stateful"] == [["UNSUPPORTED_ATTRIBUTE", "memory"]]
    assert refused["mask"] == [["UNSUPPORTED_ATTRIBUTE", "emb"]]


def test_keras2_h5_read_by_keras3(legacy):
    """The Keras-2 .h5, converted by this (Keras 3) frontend, gives Keras 2's numbers."""
    from nnrosetta.ir.graph import Graph
    from nnrosetta.rpc.converter import Model
    from nnrosetta_frontend_tf import TFConverter

    _, work = legacy
    io = np.load(work / "legacy_io.npz")
    items = list(TFConverter().to_ir(Model("keras", files={"network": str(work /
                                                                          "legacy.h5")})))
    graph = next(i for i in items if isinstance(i, Graph))
    weights = dict(i for i in items if isinstance(i, tuple))
    got = registry.run_reference(graph, weights,
                                 {graph.inputs[0].name: np.transpose(io["x"], (0, 3, 1, 2))})
    ref = io["y"]
    assert np.max(np.abs(got[graph.outputs[0]] - ref)) <= 1e-4 * np.max(np.abs(ref))
