"""InputLayer, Dropout and the other layers that are identities at inference, Rescaling,
Normalization (preprocessing) -> IR Dropout / Identity / Power / Scale."""

from __future__ import annotations

import numpy as np

from nnrosetta_frontend_tf import compat
from nnrosetta_frontend_tf.layers._base import (
    LayerIssue,
    Out,
    OutVal,
    Tensor,
    Unsupported,
    layer,
)


@layer("InputLayer", ir_ops=["Input"])
def input_layer(call, ctx) -> Out:
    """keras.Input / keras.layers.InputLayer: an IR Input (made by the importer itself)"""
    raise LayerIssue("BAD_GRAPH", f"{call.label} is used as a layer inside the graph")


@layer("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
       ir_ops=["Dropout"])
def dropout(call, ctx) -> Out:
    """keras.layers.Dropout(rate) / SpatialDropout1D/2D/3D: identity at inference"""
    x = ctx.raw(0)
    n = ctx.node(call, "Dropout", [x.ref], ratio=float(call.cfg("rate", 0.5)))
    return Out([n], outputs=[OutVal(n.name, x.perm, x.features)])


@layer("GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization",
       "Identity", ir_ops=["Identity"])
def identity(call, ctx) -> Out:
    """keras.layers.GaussianNoise / GaussianDropout / AlphaDropout / ActivityRegularization /
    Identity: identity at inference"""
    x = ctx.raw(0)
    n = ctx.node(call, "Identity", [x.ref])
    return Out([n], outputs=[OutVal(n.name, x.perm, x.features)])


def _per_channel(call, x, values: np.ndarray, what: str) -> tuple[int, np.ndarray]:
    """(IR axis, vector) of a constant that broadcasts against the Keras tensor along one
    axis (the last one, as Keras' (1, ..., C) shapes do)."""
    v = np.asarray(values, np.float32)
    if v.ndim == 0 or v.size == 1:
        return -1, v.reshape(1)
    nz = [i for i, d in enumerate(v.shape) if d != 1]
    if len(nz) != 1:
        raise Unsupported(f"{call.label}: {what} of shape {list(v.shape)} varies along "
                          "several axes")
    axis = x.rank - v.ndim + nz[0]
    if v.shape[nz[0]] != x.src_shape[axis]:
        raise LayerIssue("BAD_SHAPE", f"{call.label}: {what} of shape {list(v.shape)} does not "
                         f"fit the input {list(x.src_shape)}")
    return x.ir_axis(axis), v.reshape(-1)


def _affine(call, ctx, x, scale: np.ndarray, bias: np.ndarray) -> Out:
    """y = x * scale + bias with constants broadcast along one Keras axis."""
    sa, s = _per_channel(call, x, scale, "scale")
    ba, b = _per_channel(call, x, bias, "offset")
    if s.size == 1 and b.size == 1:
        n = ctx.node(call, "Power", [x.ref], scale=float(s[0]), shift=float(b[0]), power=1.0)
        return Out([n], outputs=[OutVal(n.name, x.perm)])
    axis = sa if s.size > 1 else ba
    size = max(s.size, b.size)
    n = ctx.node(call, "Scale", [x.ref], axis=axis)
    w = {f"{n.name}.scale": Tensor.of(np.broadcast_to(s, (size,)).copy()),
         f"{n.name}.bias": Tensor.of(np.broadcast_to(b, (size,)).copy())}
    return Out([n], w, [OutVal(n.name, x.perm)])


@layer("Rescaling", ir_ops=["Power", "Scale"])
def rescaling(call, ctx) -> Out:
    """keras.layers.Rescaling(scale, offset): x * scale + offset"""
    x = ctx.input(0)
    return _affine(call, ctx, x, np.asarray(call.cfg("scale", 1.0), np.float32),
                   np.asarray(call.cfg("offset", 0.0), np.float32))


@layer("Normalization", ir_ops=["Power", "Scale"])
def normalization(call, ctx) -> Out:
    """keras.layers.Normalization (adapted mean / variance; invert=False):
    (x - mean) / max(sqrt(variance), epsilon)"""
    x = ctx.input(0)
    if call.cfg("invert", False):
        raise Unsupported(f"{call.label}: invert=True")
    lay = call.layer
    mean = getattr(lay, "mean", None)
    var = getattr(lay, "variance", None)
    if mean is None or var is None:
        raise LayerIssue("MISSING_WEIGHT", f"{call.label}: mean / variance are not set (was "
                         "the layer adapted?)")
    m = compat.to_numpy(mean) if not isinstance(mean, np.ndarray) else mean
    v = compat.to_numpy(var) if not isinstance(var, np.ndarray) else var
    eps = compat.epsilon()
    std = np.maximum(np.sqrt(np.asarray(v, np.float64)), eps)
    scale = (1.0 / std).astype(np.float32)
    bias = (-np.asarray(m, np.float64) / std).astype(np.float32)
    return _affine(call, ctx, x, scale, bias)
