"""backend-pytorch RNN / GRU / LSTM emitters: the generated loop is ruff clean, keeps ONNX's
gate order, matches the IR's NumPy reference (weights given as inputs, as ONNX models pass
them, and stored as parameters), scripts to TorchScript with the same results and trains."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta.ir.ops.rnn import CELLS, ROLES
from nnrosetta_backend_pytorch.service import MODEL_PY, TORCHSCRIPT_PT, forget

from ._cases import graph, inp
from .test_backend_pytorch_codegen import BACKEND, close, convert, load, ruff, run_eager

OUT_COUNT = {"RNN": 2, "GRU": 2, "LSTM": 3}


def values(op, seed, *, seq=4, batch=3, inp_size=5, hidden=6, direction="forward", layout=0,
           bias=True, lens=None, init=False, peep=False):
    """role -> array for the weights (None where absent), and the input X."""
    rng = np.random.default_rng(seed)
    gates = CELLS[op][0]
    nd = 2 if direction == "bidirectional" else 1
    f = np.float32
    state = (batch, nd, hidden) if layout else (nd, batch, hidden)
    v = {"X": rng.standard_normal((batch, seq, inp_size) if layout
                                  else (seq, batch, inp_size)).astype(f),
         "W": (rng.standard_normal((nd, gates * hidden, inp_size)) * 0.5).astype(f),
         "R": (rng.standard_normal((nd, gates * hidden, hidden)) * 0.5).astype(f),
         "B": (rng.standard_normal((nd, 2 * gates * hidden)) * 0.5).astype(f) if bias else None,
         "sequence_lens": None if lens is None else np.asarray(lens, np.int32),
         "initial_h": rng.standard_normal(state).astype(f) if init else None,
         "initial_c": rng.standard_normal(state).astype(f) if init and op == "LSTM" else None,
         "P": (rng.standard_normal((nd, 3 * hidden)) * 0.5).astype(f) if peep else None}
    return {k: a for k, a in v.items() if a is not None and (k == "X" or k in ROLES[op])}


def rnn_graph(op, vals, attrs, *, dynamic=True, fetch=None):
    """X (and, when ``dynamic``, every float weight) as graph inputs into one node; stored
    weights otherwise (sequence_lens stays stored: graph inputs are float)."""
    fetch = list(range(OUT_COUNT[op])) if fetch is None else list(fetch)
    attrs = dict(attrs, num_outputs=max(fetch) + 1)
    roles = [r for r in ROLES[op] if r in vals]
    bound = [r for r in roles if dynamic and r != "sequence_lens"]
    stored = [r for r in roles if r not in bound]
    if bound and bound != ROLES[op][:len(bound)]:
        attrs["weight_inputs"] = bound
    nodes = [inp("x", vals["X"].shape)] + [inp(r, vals[r].shape) for r in bound]
    nodes.append(Node("cell", op, ["x", *bound], attrs))
    weights = {f"cell.{r}": vals[r] for r in stored}
    g, w = graph(nodes, weights, outputs=[f"cell:{i}" if i else "cell" for i in fetch])
    feeds = {"x": vals["X"], **{r: vals[r] for r in bound}}
    return g, w, feeds


CASES = {
    "rnn_defaults": ("RNN", {"bias": False}, {}),
    "rnn_relu_bias_init": ("RNN", {"init": True}, {"activations": ["Relu"]}),
    "rnn_bidirectional_affine": ("RNN", {}, {"direction": "bidirectional",
                                            "activations": ["Affine", "Tanh"],
                                            "activation_alpha": [0.7],
                                            "activation_beta": [0.1]}),
    "rnn_reverse_batchwise_lens": ("RNN", {"layout": 1, "lens": [4, 0, 2]},
                                   {"direction": "reverse", "layout": 1}),
    "gru_defaults": ("GRU", {"bias": False}, {}),
    "gru_bias_init_clip": ("GRU", {"init": True}, {"clip": 0.6}),
    "gru_linear_before_reset": ("GRU", {"init": True}, {"linear_before_reset": True}),
    "gru_bidirectional_lens": ("GRU", {"lens": [1, 4, 3]}, {"direction": "bidirectional"}),
    "gru_batchwise_acts": ("GRU", {"layout": 1}, {"layout": 1, "activations": [
        "HardSigmoid", "Softsign"], "activation_alpha": [0.3], "activation_beta": [0.4]}),
    "lstm_defaults": ("LSTM", {"bias": False}, {}),
    "lstm_init_peepholes": ("LSTM", {"init": True, "peep": True}, {}),
    "lstm_reverse_input_forget": ("LSTM", {"init": True}, {"direction": "reverse",
                                                          "input_forget": True}),
    "lstm_bidirectional_clip_lens": ("LSTM", {"peep": True, "lens": [3, 4, 2], "init": True},
                                     {"direction": "bidirectional", "clip": 0.8}),
    "lstm_batchwise": ("LSTM", {"layout": 1, "init": True}, {"layout": 1}),
    "lstm_acts": ("LSTM", {}, {"activations": ["Sigmoid", "LeakyRelu", "Elu"],
                               "activation_alpha": [0.2, 0.9]}),
}


def _check_model(g, w, feeds, tmp_path, train=True):
    assert registry.validate(g) == [], registry.validate(g)
    assert BACKEND.issues(g) == []
    files = convert(g, w, tmp_path)
    ruff(files[MODEL_PY])
    ref = registry.run_reference(g, w, feeds)
    mod, model = load(files)
    try:
        model.eval()
        out = run_eager(mod, model, feeds)
        outs = out if isinstance(out, tuple) else (out,)
        assert len(outs) == len(ref)
        for o, r in zip(outs, ref.values(), strict=True):
            assert o.numpy().dtype == r.dtype
            close(o.numpy(), r)
        ts = torch.jit.load(files[TORCHSCRIPT_PT])
        with torch.no_grad():
            tout = ts(*[torch.from_numpy(feeds[n].copy()) for n in mod.INPUTS])
        touts = tout if isinstance(tout, tuple) else (tout,)
        for a, b in zip(touts, outs, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
        if train:
            model.train()
            args = [torch.from_numpy(feeds[n].copy()).requires_grad_(True) for n in mod.INPUTS]
            out = model(*args)
            outs = out if isinstance(out, tuple) else (out,)
            sum(o.sum() for o in outs).backward()
            assert args[0].grad is not None and torch.isfinite(args[0].grad).all()
    finally:
        forget(mod)
    return files


@pytest.mark.parametrize("dynamic", [True, False], ids=["inputs", "stored"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_rnn(case, dynamic, tmp_path):
    op, kw, attrs = CASES[case]
    vals = values(op, sorted(CASES).index(case),
                  direction=attrs.get("direction", "forward"), **kw)
    g, w, feeds = rnn_graph(op, vals, attrs, dynamic=dynamic)
    files = _check_model(g, w, feeds, tmp_path)
    src = open(files[MODEL_PY]).read()
    assert f"# {op}, ONNX gate order {', '.join(CELLS[op][2])}" in src
    assert "for " in src and "range(" in src


@pytest.mark.parametrize("fetch", [(1,), (0,), (2,)], ids=["y_h", "y", "y_c"])
def test_only_some_outputs(fetch, tmp_path):
    vals = values("LSTM", 3, direction="bidirectional", init=True)
    g, w, feeds = rnn_graph("LSTM", vals, {"direction": "bidirectional"}, fetch=fetch)
    files = _check_model(g, w, feeds, tmp_path)
    src = open(files[MODEL_PY]).read()
    assert (".append(" in src) == (fetch == (0,))


def test_stored_weights_are_trainable_parameters(tmp_path):
    vals = values("GRU", 5, init=True)
    g, w, feeds = rnn_graph("GRU", vals, {}, dynamic=False)
    files = convert(g, w, tmp_path)
    mod, model = load(files)
    try:
        names = {n for n, _ in model.named_parameters()}
        assert {"cell_W", "cell_R", "cell_B", "cell_initial_h"} <= names
    finally:
        forget(mod)


def test_check_reports_bad_activations():
    vals = values("RNN", 1)
    g, _, _ = rnn_graph("RNN", vals, {"activations": ["Tanh", "Relu", "Relu"]})
    issues = BACKEND.issues(g)
    assert issues and "activation" in str(issues)
