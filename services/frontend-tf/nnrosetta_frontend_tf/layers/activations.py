"""Activation, ReLU, LeakyReLU, PReLU, ELU, Softmax, ThresholdedReLU -> IR activations; and
the ``activation=`` argument of Conv / Dense layers (``activation_nodes``)."""

from __future__ import annotations

import numpy as np

from nnrosetta.ir.graph import Node
from nnrosetta_frontend_tf import compat
from nnrosetta_frontend_tf.layers._base import (
    LayerCall,
    LayerIssue,
    Out,
    OutVal,
    Tensor,
    Unsupported,
    activation_name,
    layer,
)

# Keras activation name -> (IR op, attributes); "softmax"-like ones take the last axis
_SIMPLE: dict[str, tuple[str, dict]] = {
    "relu": ("Relu", {}),
    "relu6": ("Clip", {"min": 0.0, "max": 6.0}),
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "swish": ("Swish", {"alpha": 1.0}),
    "silu": ("Swish", {"alpha": 1.0}),
    "gelu": ("Gelu", {"approximate": "none"}),
    "elu": ("Elu", {"alpha": 1.0}),
    "selu": ("Selu", {}),
    "softplus": ("Softplus", {}),
    "softsign": ("Softsign", {}),
    "exponential": ("Exp", {}),
    "mish": ("Mish", {}),
    "celu": ("Celu", {"alpha": 1.0}),
    "leaky_relu": ("LeakyRelu", {"alpha": 0.2}),
    "hard_silu": ("HardSwish", {}),
    "hard_swish": ("HardSwish", {}),
    "hard_tanh": ("Clip", {"min": -1.0, "max": 1.0}),
    "soft_shrink": ("Shrink", {"lambd": 0.5, "bias": 0.5}),
    "hard_shrink": ("Shrink", {"lambd": 0.5, "bias": 0.0}),
}
_AXIS = {"softmax": "Softmax", "log_softmax": "LogSoftmax"}
ACTIVATIONS = sorted([*_SIMPLE, *_AXIS, "hard_sigmoid", "linear"])
IR_OPS = sorted({op for op, _ in _SIMPLE.values()} | set(_AXIS.values()) | {"HardSigmoid"})


def activation_nodes(ctx, call: LayerCall, name: str, ref: str, rank: int, last_axis: int,
                     suffix: str | None = None) -> list[Node]:
    """IR nodes applying Keras activation ``name`` to ``ref`` (none for linear);
    ``last_axis`` is the IR axis holding the Keras tensor's last axis (softmax)."""
    sfx = name if suffix is None else suffix
    if name in ("linear", None, ""):
        return []
    if name in _SIMPLE:
        op, attrs = _SIMPLE[name]
        return [ctx.node(call, op, [ref], sfx, **attrs)]
    if name in _AXIS:
        return [ctx.node(call, _AXIS[name], [ref], sfx, axis=last_axis)]
    if name == "hard_sigmoid":
        alpha, beta = compat.hard_sigmoid_coefficients()
        return [ctx.node(call, "HardSigmoid", [ref], sfx, alpha=alpha, beta=beta)]
    raise Unsupported(f"{call.label}: activation {name!r} is not supported (supported: "
                      f"{', '.join(ACTIVATIONS)})", "UNSUPPORTED_ACTIVATION")


def with_activation(ctx, call: LayerCall, nodes: list[Node], ref: str, rank: int,
                    last_axis: int) -> tuple[list[Node], str]:
    """Append the layer's ``activation`` config to ``nodes``; (nodes, output ref)."""
    act = activation_name(call)
    extra = activation_nodes(ctx, call, act, ref, rank, last_axis)
    if extra:
        return nodes + extra, extra[-1].name
    return nodes, ref


@layer("Activation", ir_ops=IR_OPS)
def activation(call, ctx) -> Out:
    """keras.layers.Activation(activation)"""
    x = ctx.input(0)
    act = activation_name(call)
    if act == "linear":
        n = ctx.node(call, "Identity", [x.ref])
        return Out([n], outputs=[OutVal(n.name, x.perm)])
    nodes = activation_nodes(ctx, call, act, x.ref, x.rank, x.ir_axis(-1), suffix="")
    return Out(nodes, outputs=[OutVal(nodes[-1].name, x.perm)])


def _f(v, default=None):
    return default if v is None else float(v)


@layer("ReLU", ir_ops=["Relu", "Clip", "LeakyRelu", "ThresholdedRelu", "Power", "Add"])
def relu(call, ctx) -> Out:
    """keras.layers.ReLU(max_value, negative_slope, threshold)"""
    x = ctx.input(0)
    mx = _f(call.cfg("max_value"))
    ns = _f(call.cfg("negative_slope"), 0.0)
    th = _f(call.cfg("threshold"), 0.0)
    if mx is not None and mx < 0:
        raise LayerIssue("BAD_CONFIG", f"{call.label}: max_value {mx} < 0")
    nodes: list[Node] = []
    if ns == 0.0 and th == 0.0:
        if mx is None:
            nodes = [ctx.node(call, "Relu", [x.ref])]
        else:
            nodes = [ctx.node(call, "Clip", [x.ref], min=0.0, max=mx)]
    elif th == 0.0:
        # x >= 0: min(x, max); x < 0: negative_slope * x
        nodes = [ctx.node(call, "LeakyRelu", [x.ref], "leaky" if mx is not None else "",
                          alpha=ns)]
        if mx is not None:
            nodes.append(ctx.node(call, "Clip", [nodes[0].name], max=mx))
    else:
        # Keras: clip(x * (x > t), 0, max) - negative_slope * relu(t - x)
        pos = ctx.node(call, "ThresholdedRelu", [x.ref], "pos", alpha=th)
        nodes = [pos]
        ref = pos.name
        if mx is not None:
            c = ctx.node(call, "Clip", [ref], "clip", min=0.0, max=mx)
            nodes.append(c)
            ref = c.name
        if ns != 0.0:
            neg_in = ctx.node(call, "Power", [x.ref], "shift", scale=-1.0, shift=th)
            neg = ctx.node(call, "Relu", [neg_in.name], "neg")
            nodes += [neg_in, neg, ctx.node(call, "Add", [ref, neg.name], coeffs=[1.0, -ns])]
    return Out(nodes, outputs=[OutVal(nodes[-1].name, x.perm)])


@layer("LeakyReLU", ir_ops=["LeakyRelu"])
def leaky_relu(call, ctx) -> Out:
    """keras.layers.LeakyReLU(negative_slope) (Keras 2: alpha)"""
    x = ctx.input(0)
    a = call.cfg("negative_slope", call.cfg("alpha", 0.3))
    n = ctx.node(call, "LeakyRelu", [x.ref], alpha=float(a))
    return Out([n], outputs=[OutVal(n.name, x.perm)])


@layer("ELU", ir_ops=["Elu"])
def elu(call, ctx) -> Out:
    """keras.layers.ELU(alpha)"""
    x = ctx.input(0)
    n = ctx.node(call, "Elu", [x.ref], alpha=float(call.cfg("alpha", 1.0)))
    return Out([n], outputs=[OutVal(n.name, x.perm)])


@layer("ThresholdedReLU", ir_ops=["ThresholdedRelu"])
def thresholded_relu(call, ctx) -> Out:
    """keras.layers.ThresholdedReLU(theta) (Keras 2)"""
    x = ctx.input(0)
    n = ctx.node(call, "ThresholdedRelu", [x.ref], alpha=float(call.cfg("theta", 1.0)))
    return Out([n], outputs=[OutVal(n.name, x.perm)])


@layer("Softmax", ir_ops=["Softmax"])
def softmax(call, ctx) -> Out:
    """keras.layers.Softmax(axis)"""
    x = ctx.input(0)
    axis = call.cfg("axis", -1)
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise Unsupported(f"{call.label}: softmax over several axes {list(axis)}")
        axis = axis[0]
    n = ctx.node(call, "Softmax", [x.ref], axis=x.ir_axis(int(axis)))
    return Out([n], outputs=[OutVal(n.name, x.perm)])


@layer("PReLU", ir_ops=["PRelu"])
def prelu(call, ctx) -> Out:
    """keras.layers.PReLU(shared_axes)"""
    x = ctx.input(0)
    var = compat.weight(call.layer, "alpha")
    if var is None:
        raise LayerIssue("MISSING_WEIGHT", f"{call.label} has no alpha weight")
    a_shape = tuple(int(d) for d in var.shape)
    if len(a_shape) != x.rank - 1:
        raise Unsupported(f"{call.label}: alpha of shape {list(a_shape)} for an input of "
                          f"rank {x.rank}")
    perm = x.ir_perm()
    if x.rank == 2:
        shape = a_shape
        fn = compat.to_numpy
    else:
        shape = tuple((1, *a_shape)[p] for p in perm)[1:]

        def fn(v, perm=perm):
            return np.transpose(compat.to_numpy(v)[None], perm)[0]
    n = ctx.node(call, "PRelu", [x.ref])
    return Out([n], {f"{n.name}.slope": Tensor(shape, lambda: fn(var))},
               [OutVal(n.name, x.perm)])
