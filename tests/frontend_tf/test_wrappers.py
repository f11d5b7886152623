"""keras.layers.RNN(cell) and TimeDistributed(inner) against Keras itself (TensorFlow is the
oracle): RNN(SimpleRNNCell / GRUCell / LSTMCell) as the IR op its layer class gives (every
output combination, go_backwards, Bidirectional, initial states), TimeDistributed over
Dense, Conv, pooling, Flatten, BatchNormalization, ... with the layouts it keeps; what is
refused (StackedRNNCells, custom cells, stateful, unsupported inner layers); that a wrong
mapping fails the comparison. The same cases and refusals run under Keras 2 (the
frontend-tf-legacy venv) in a subprocess (``_wrapper_cases.py``)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from nnrosetta.ir import registry
from tests.frontend_tf._keras import LEGACY, check, keras, legacy_ready, randomize, rel_err, to_ir
from tests.frontend_tf._wrapper_cases import (
    CASES,
    RNN_CASES,
    SCAN_REFUSED,
    TD_CASES,
    refusals,
    scan,
)

ROOT = Path(__file__).resolve().parents[2]
RECURRENT = ("RNN", "GRU", "LSTM")
TOL = 1e-5          # max |IR - Keras| / max |Keras| (measured: below 4e-7)


@pytest.fixture(scope="module")
def K():
    return keras()


def _build(K, name):
    model, xs = CASES[name](K)
    randomize(model, seed=len(name))
    return model, xs


@pytest.mark.parametrize("case", sorted(RNN_CASES))
def test_rnn_cell(K, case):
    """RNN(cell): one IR recurrent node (per RNN layer), layout 1, as its layer class."""
    model, xs = _build(K, case)
    g = check(model, xs, tol=TOL)
    rec = [n for n in g.nodes if n.op in RECURRENT]
    n_rnn = 3 if case == "rnn_encoder_decoder" else 1
    assert len(rec) == n_rnn and all(n.attrs["layout"] == 1 for n in rec)
    assert "Transpose" not in [n.op for n in g.nodes]
    want = "RNN" if "simple" in case else "GRU" if "gru" in case else "LSTM"
    if case != "rnn_encoder_decoder":
        assert rec[0].op == want
        direction = "bidirectional" if case.startswith("bi_") else \
            "reverse" if "backwards" in case else "forward"
        assert rec[0].attrs["direction"] == direction
        if want == "GRU" and not case.startswith("bi_"):
            assert rec[0].attrs["linear_before_reset"] is ("reset_before" not in case)


def test_rnn_cell_attributes(K):
    """The cell's settings reach the IR op (activations, no bias), the layer's settings too
    (initial states bound to initial_h / initial_c)."""
    g = check(*_build(K, "rnn_lstm_activations"), tol=TOL)
    lstm = next(n for n in g.nodes if n.op == "LSTM")
    assert lstm.attrs["activations"] == ["HardSigmoid", "Softsign", "Softsign"]
    assert not any(k.startswith(lstm.name + ".B") for k in g.tensors)
    g = check(*_build(K, "rnn_encoder_decoder"), tol=TOL)
    dec = next(n for n in g.nodes if n.op == "LSTM" and n.name.startswith("decoder"))
    assert dec.attrs["weight_inputs"] == ["initial_h", "initial_c"]
    gru = next(n for n in g.nodes if n.op == "GRU")
    assert gru.attrs["weight_inputs"] == ["initial_h"] and gru.attrs["direction"] == "reverse"


@pytest.mark.parametrize("case", sorted(TD_CASES))
def test_time_distributed(K, case):
    model, xs = _build(K, case)
    check(model, xs, tol=TOL)


def test_time_distributed_layouts(K):
    """Dense needs no reshape; a Conv2D runs on [batch * time, C, H, W] (one Transpose from
    the NCDHW-held video input, none between TimeDistributed convolutions: the output stays
    channels-first per time step); Flatten then needs the Keras order (one Transpose)."""
    g = check(*_build(K, "td_dense_seq"), tol=TOL)
    assert [n.op for n in g.nodes] == ["Input", "FullyConnected", "Tanh"]
    model, xs = _build(K, "td_conv2d_same_s2")
    g = check(model, xs, tol=TOL)
    ops = [n.op for n in g.nodes]
    assert ops == ["Input", "Transpose", "Reshape", "Conv", "Relu", "Reshape"], ops
    assert g.inputs[0].attrs["_source_perm"] == [0, 4, 1, 2, 3]
    out = g.node(g.outputs[0])
    assert out.attrs["_source_name"] == model.layers[-1].name
    assert out.attrs["_source_perm"] == [0, 1, 4, 2, 3]          # [batch, time, C, H, W]
    conv = next(n for n in g.nodes if n.op == "Conv")
    assert conv.attrs["strides"] == [2, 2] and conv.attrs["pads"] == [1, 1, 1, 1]
    g = check(*_build(K, "td_video_classifier"), tol=TOL)
    ops = [n.op for n in g.nodes]
    assert ops.count("Transpose") == 2, ops             # into td_conv, into td_flat
    assert ops.count("Conv") == 2 and ops.count("BatchNorm") == 1 and "LSTM" in ops


def test_comparison_catches_wrong_mapping(K, monkeypatch):
    """The comparison is with Keras: LSTM gate blocks in the wrong order, or a changed Keras
    weight after conversion, fail it."""
    from nnrosetta_frontend_tf.layers import recurrent

    model, xs = _build(K, "rnn_lstm_seq")
    check(model, xs, tol=TOL)
    monkeypatch.setitem(recurrent._CELLS, "LSTM", ("LSTM", 4, (0, 1, 2, 3)))
    with pytest.raises(AssertionError, match="relative error"):
        check(model, xs, tol=TOL)
    monkeypatch.undo()

    model, xs = _build(K, "td_conv2d_same_s2")
    graph, weights = to_ir(model)
    x = xs[0]
    got = registry.run_reference(graph, weights,
                                 {graph.inputs[0].name: np.transpose(x, (0, 4, 1, 2, 3))})
    got = np.transpose(got[graph.outputs[0]], (0, 1, 3, 4, 2))   # back to Keras' layout
    assert rel_err(got, np.asarray(model(x, training=False))) <= 1e-5
    conv = model.layers[-1].layer
    conv.kernel.assign(np.asarray(conv.kernel)[::-1].copy())    # flip the kernel rows
    assert rel_err(got, np.asarray(model(x, training=False))) > 1e-2


def test_refused(K):
    """StackedRNNCells (also as a list, also in Bidirectional), a custom cell, a user class
    named LSTMCell, stateful, and TimeDistributed around a layer it cannot run per time step:
    one issue each, at the layer, naming it and saying why."""
    res = refusals(K)
    for key, r in res.items():
        assert [tuple(i) for i in r["issues"]] == [tuple(w) for w in r["want"]], (key, r)
        assert r["message_ok"], (key, r["message"])
        assert r["status"] == "UNIMPLEMENTED", (key, r)


def _check_scan(res: dict) -> None:
    for ext, r in res.items():
        assert r["issues"] == [["UNSUPPORTED_LAYER", n] for n in SCAN_REFUSED], (ext, r)
        assert not r["graph"]
        msgs = r["messages"]
        assert "StackedRNNCells" in msgs["bi_stacked"] and "Bidirectional" in msgs["bi_stacked"]
        assert "MinimalCell" in msgs["custom"] and "custom cell" in msgs["custom"]
        assert "StackedRNNCells" in msgs["stacked"]
        assert "inner LSTM layer" in msgs["td_lstm"] and "per time step" in msgs["td_lstm"]


def test_file_scan_lists_refused_wrappers(K, tmp_path):
    """Saved to .keras and .h5: the scan before Keras loads the file lists every wrapper
    around a cell or layer the importer refuses (a custom cell may not even load), with the
    other unsupported layers, and none of the supported ones."""
    _check_scan(scan(K, tmp_path))


def test_keras3_saved_file_through_service(K, tmp_path):
    """A .keras file with RNN(LSTMCell) and TimeDistributed converted as the service does
    (variables left uninitialized by the load): Keras' numbers."""
    from nnrosetta.ir.graph import Graph
    from nnrosetta.rpc.converter import Model
    from nnrosetta_frontend_tf import TFConverter

    model, xs = _build(K, "td_video_classifier")
    ref = np.asarray(model(xs[0], training=False))
    path = tmp_path / "video.keras"
    model.save(path)
    items = list(TFConverter().to_ir(Model("keras", files={"network": str(path)})))
    graph = next(i for i in items if isinstance(i, Graph))
    weights = dict(i for i in items if isinstance(i, tuple))
    got = registry.run_reference(
        graph, weights, {graph.inputs[0].name: np.transpose(xs[0], (0, 4, 1, 2, 3))})
    assert rel_err(got[graph.outputs[0]], ref) <= TOL



@pytest.mark.skipif(not legacy_ready(), reason="the frontend-tf-legacy venv (TensorFlow "
                    "2.15) is not built: scripts build it with the service venvs")
def test_under_keras2():
    """Every case against Keras 2 itself, and the same refusals, in the legacy venv."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_NUM_INTRAOP_THREADS": "2",
           "TF_NUM_INTEROP_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "services" / "frontend-tf")])}
    r = subprocess.run([str(LEGACY), "-m", "tests.frontend_tf._wrapper_cases"],
                       capture_output=True, text=True, timeout=900, env=env, cwd=str(ROOT))
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("RESULT ")]
    assert r.returncode == 0 and lines, r.stdout[-3000:] + r.stderr[-3000:]
    res = json.loads(lines[-1][len("RESULT "):])
    assert "error" not in res, res["error"]
    assert res["keras"].startswith("2.")
    assert res["failed"] == {}
    assert sorted(res["ok"]) == sorted(CASES)
    for key, r in res["refusals"].items():
        assert r["issues"] == r["want"], (key, r)
        assert r["message_ok"] and r["status"] == "UNIMPLEMENTED", (key, r)
    assert set(res["scan"]) == {"h5", "savedmodel"}
    _check_scan(res["scan"])

