"""TimeDistributed(inner) -> the inner layer's IR applied to every time step.

Layers that act on the last axis only (Dense, Activation, the ReLU family, Dropout and the
other inference identities) give the same result on the whole ``[batch, time, ...]`` tensor:
their importer runs on it as it is (no reshape). Any other supported inner layer runs on
``[batch * time, ...]``: the input is held with batch and time as its first two IR axes (one
Transpose where the model holds it otherwise, e.g. a 5-D video input held NCDHW), reshaped
to ``[batch * time, ...]``, given to the inner layer's own importer as if that tensor were
its input (its layout, e.g. channels-first for a Conv2D, carried over), and its output
reshaped back to ``[batch, time, ...]`` (the inner output's layout carried over again: a
TimeDistributed(Conv2D) output stays channels-first per time step, so a following
TimeDistributed(Conv2D) needs no Transpose).
"""

from __future__ import annotations

import itertools

from nnrosetta_frontend_tf import compat
from nnrosetta_frontend_tf.layers._base import (
    LAYERS,
    LayerCall,
    LayerIssue,
    Out,
    OutVal,
    Unsupported,
    layer,
    layer_config,
)

# inner layers that act on the last axis only (or elementwise): run on the 3+-D tensor as is
_DIRECT = {"Dense", "Activation", "ReLU", "LeakyReLU", "ELU", "ThresholdedReLU", "Dropout",
           "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise",
           "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Identity"}
# inner layers that work on one sample: run on [batch * time, ...]
_FOLDED = {
    *(f"{k}{d}" for k in ("Conv", "MaxPooling", "AveragePooling", "GlobalAveragePooling",
                          "GlobalMaxPooling", "ZeroPadding", "Cropping", "UpSampling")
      for d in ("1D", "2D", "3D")),
    "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "DepthwiseConv1D",
    "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "Flatten", "Reshape",
    "BatchNormalization", "LayerNormalization", "GroupNormalization", "UnitNormalization",
    "Rescaling", "Softmax", "PReLU",
}
SUPPORTED = sorted(_DIRECT | _FOLDED)


def inner_problem(key: str) -> str:
    """Why an inner layer of class ``key`` is refused (also said by the file scan)."""
    return (f"an inner {key} layer, which the Keras frontend cannot run per time step (inside "
            "TimeDistributed: Dense, activation, dropout, convolution, pooling, Flatten, "
            "Reshape, padding / cropping / upsampling and normalization layers; see "
            "docs/keras-layers.md)")


_keys = itertools.count(-1, -1)     # value keys of the folded tensors (walk keys are ids > 0)


def _inner(call: LayerCall) -> tuple[LayerCall, object]:
    inner = getattr(call.layer, "layer", None)
    if inner is None:
        raise LayerIssue("BAD_CONFIG", f"{call.label} wraps no layer")
    key = compat.class_key(inner)
    imp = LAYERS.get(key)
    if imp is None or key not in SUPPORTED:
        raise Unsupported(f"{call.label}: wraps {inner_problem(key)}", "UNSUPPORTED_LAYER")
    name = f"{call.name}/{getattr(inner, 'name', key)}"
    return LayerCall(inner, key, name, layer_config(inner), 1), imp


def _prefixed(call: LayerCall, e: LayerIssue) -> LayerIssue:
    msg = f"{call.label}: {e.message}"
    return Unsupported(msg, e.code) if isinstance(e, Unsupported) else \
        LayerIssue(e.code, msg, e.status)


@layer("TimeDistributed", ir_ops=["Reshape", "Transpose"])
def time_distributed(call, ctx) -> Out:
    """keras.layers.TimeDistributed(inner) for an inner Dense, Activation, ReLU / LeakyReLU /
    ELU / ThresholdedReLU, Dropout (and the other inference identities): the inner importer on
    the whole tensor; for an inner Conv / DepthwiseConv / SeparableConv / ConvTranspose,
    pooling, global pooling, Flatten, Reshape, ZeroPadding, Cropping, UpSampling,
    BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization, Rescaling,
    Softmax, PReLU: Reshape to [batch * time, ...], the inner layer's IR ops, Reshape back;
    other inner layers are refused"""
    sub, imp = _inner(call)
    x = ctx.input(0)
    if x.rank < 3:
        raise LayerIssue("BAD_SHAPE", f"{call.label}: input of rank {x.rank}, expected at "
                         "least 3 (batch, time, ...)")
    try:
        if sub.key in _DIRECT:
            return imp.fn(sub, ctx)
        return _folded(call, ctx, sub, imp, x)
    except LayerIssue as e:
        raise _prefixed(call, e) from e


def _folded(call: LayerCall, ctx, sub: LayerCall, imp, x) -> Out:
    from nnrosetta_frontend_tf.keras_import import Val, _infer
    from nnrosetta_frontend_tf.walk import Call

    r = x.rank
    # batch and time first (in that order), the other axes in the order they are held
    q = (0, 1, *(a for a in x.ir_perm() if a > 1))
    x = ctx.as_perm(x, None if q == tuple(range(r)) else q)
    batch, steps = x.shape[0], x.shape[1]
    folded = (batch * steps, *x.shape[2:])
    fold = ctx.node(call, "Reshape", [x.ref], "fold", shape=[-1, *folded[1:]])
    ctx.pending.append(fold)            # before any layout change the inner importer asks for
    ctx.shapes[fold.name] = folded
    inner_perm = (0, *(a - 1 for a in q[2:]))
    key = next(_keys)
    ctx.vals[key] = Val(fold.name, folded,
                        None if inner_perm == tuple(range(r - 1)) else inner_perm)
    outer = ctx.call
    ctx.call = Call(sub.layer, sub.key, sub.name, [key], [])
    try:
        out: Out = imp.fn(sub, ctx)
    finally:
        ctx.call = outer
        ctx.vals.pop(key, None)
    if len(out.outputs) != 1:
        raise LayerIssue("BAD_GRAPH", f"{sub.label} gave {len(out.outputs)} outputs")
    issues: list = []
    if not _infer(out.nodes, out.weights, ctx, sub, issues):
        raise LayerIssue(issues[0].code, issues[0].message)
    ov = out.outputs[0]
    shape = ctx.shapes[ov.ref]
    p = tuple(ov.perm) if ov.perm is not None else tuple(range(len(shape)))
    if ov.features is not None or not p or p[0] != 0:
        raise LayerIssue("BAD_GRAPH", f"{sub.label}: its output does not keep the batch axis "
                         "first")
    if shape[0] != batch * steps:
        raise LayerIssue("BAD_SHAPE", f"{sub.label}: output of shape {list(shape)} for "
                         f"{batch * steps} time steps")
    unfold = ctx.node(call, "Reshape", [ov.ref], shape=[-1, steps, *shape[1:]])
    perm = (0, 1, *(a + 1 for a in p[1:]))
    return Out([*out.nodes, unfold], out.weights,
               [OutVal(unfold.name, None if perm == tuple(range(len(perm))) else perm)])


# -- the file scan: what a wrapper wraps, read from its config ---------------------------------

def _item(v) -> dict | None:
    return v if isinstance(v, dict) and isinstance(v.get("class_name"), str) else None


def _custom(item: dict) -> bool:
    from nnrosetta_frontend_tf.layers.recurrent import keras_module

    mod = item.get("module")
    return isinstance(mod, str) and bool(mod) and not keras_module(mod)


def config_problem(key: str, config: dict) -> str | None:
    """Why the importer of wrapper layer ``key`` (RNN, Bidirectional, TimeDistributed) will
    refuse what its ``config`` says it wraps, or None: the file scan lists it with the other
    unsupported layers before Keras loads anything (a custom cell may not even load)."""
    from nnrosetta_frontend_tf.layers.recurrent import CELL_LAYERS, CUSTOM_CELL, STACKED

    if not isinstance(config, dict):
        return None
    if key == "RNN":
        cell = config.get("cell")
        if isinstance(cell, list):
            return f"a list of {len(cell)} cells; {STACKED}"
        cell = _item(cell)
        if cell is None:
            return None
        name = cell["class_name"]
        if name == "StackedRNNCells":
            return f"a StackedRNNCells; {STACKED}"
        if name not in CELL_LAYERS or _custom(cell):
            return f"a {name} cell, {CUSTOM_CELL}"
        return None
    if key == "Bidirectional":
        for k in ("layer", "backward_layer"):
            inner = _item(config.get(k))
            if inner is None:
                continue
            name = inner["class_name"]
            if name not in ("SimpleRNN", "GRU", "LSTM", "RNN") or _custom(inner):
                return (f"a {name} layer (SimpleRNN, GRU, LSTM and RNN(SimpleRNNCell / "
                        "GRUCell / LSTMCell) are supported)")
            if name == "RNN":
                why = config_problem("RNN", inner.get("config") or {})
                if why:
                    return f"an RNN layer that runs {why}"
        return None
    if key == "TimeDistributed":
        inner = _item(config.get("layer"))
        if inner is not None and (inner["class_name"] not in SUPPORTED or _custom(inner)):
            return inner_problem(inner["class_name"])
    return None
