"""Helpers for the Keras frontend tests: random but non-degenerate weights, conversion of an
in-memory model, and the comparison with Keras' own output (TensorFlow is the oracle)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np

from nnrosetta.ir import registry

TOL = 1e-4
# the frontend-tf-legacy venv (TensorFlow 2.15, Keras 2): Keras-2 cases run there
LEGACY = Path(__file__).resolve().parents[2] / ".venvs" / "frontend-tf-legacy" / "bin" / "python"


def legacy_ready() -> bool:
    if not LEGACY.exists():
        return False
    r = subprocess.run([str(LEGACY), "-c", "import tensorflow, nnrosetta_frontend_tf"],
                       capture_output=True, timeout=120,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return r.returncode == 0


def keras():
    from nnrosetta_frontend_tf import compat

    return compat.keras()


def randomize(model, seed: int = 0) -> None:
    """Keras' default init (zero biases, unit BN statistics) hides mistakes: give biases, BN
    statistics, gammas and betas random values."""
    rng = np.random.default_rng(seed)
    for layer in _all_layers(model):
        for v in layer.weights:
            name = v.name.split("/")[-1].split(":")[0]
            shape = tuple(v.shape)
            if name in ("bias", "beta", "moving_mean"):
                val = rng.normal(0, 0.1, shape)
            elif name in ("moving_variance", "gamma"):
                val = rng.uniform(0.5, 1.5, shape)
            elif name == "alpha":
                val = rng.uniform(0.05, 0.4, shape)
            else:
                continue
            v.assign(val.astype(np.float32))


def _all_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)
        yield layer


def to_ir(model, options=None):
    from nnrosetta_frontend_tf.keras_import import convert_keras

    conv = convert_keras(model, options or {})
    assert not conv.issues, "\n".join(str(i) for i in conv.issues)
    return conv.graph, conv.materialize()


def source_to_ir(graph, name: str, x: np.ndarray) -> np.ndarray:
    """A Keras-layout array in the layout of the graph node that carries ``_source_name``
    ``name`` (through its ``_source_perm``)."""
    for n in graph.nodes:
        if n.attrs.get("_source_name") == name:
            perm = n.attrs.get("_source_perm")
            return np.transpose(x, perm) if perm else x
    raise KeyError(name)


def rel_err(got: np.ndarray, ref: np.ndarray) -> float:
    scale = float(np.max(np.abs(ref))) or 1.0
    return float(np.max(np.abs(got.astype(np.float64) - ref))) / scale


def check(model, xs, options=None, tol: float = TOL, graph_ops=None):
    """Convert, run the IR with the reference runtime, compare every output with Keras'.
    ``xs``: one array per model input, in Keras layout. Returns the graph."""
    xs = xs if isinstance(xs, (list, tuple)) else [xs]
    graph, weights = to_ir(model, options)
    feeds = {}
    for inp, x in zip(graph.inputs, xs, strict=True):
        perm = inp.attrs.get("_source_perm")
        feeds[inp.name] = np.transpose(x, perm) if perm else x
    got = registry.run_reference(graph, weights, feeds)
    ref = model(xs if len(xs) > 1 else xs[0], training=False)
    refs = ref if isinstance(ref, (list, tuple)) else [ref]
    for out, r in zip(graph.outputs, refs, strict=True):
        r = np.asarray(r)
        node = graph.node(out.split(":")[0])
        perm = node.attrs.get("_source_perm")
        r_ir = np.transpose(r, perm) if perm else r
        g = got[out]
        assert g.shape == r_ir.shape, (out, g.shape, r_ir.shape)
        err = rel_err(g, r_ir)
        assert err <= tol, f"output {out}: relative error {err:.3g} > {tol}"
    if graph_ops is not None:
        ops = [n.op for n in graph.nodes]
        for o in graph_ops:
            assert o in ops, (o, ops)
    return graph


def rand(*shape, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, shape).astype(np.float32)
