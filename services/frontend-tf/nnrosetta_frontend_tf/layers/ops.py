"""Keras 3 operations in a functional graph (``x + y``, ``2.0 * x``, ``keras.ops.relu(x)``,
``keras.ops.concatenate``, ``keras.ops.reshape``, ``keras.ops.mean``, ...) -> IR ops; a
Python number operand becomes an attribute (Power, Clip), an array operand a Constant."""

from __future__ import annotations

import math

import numpy as np

from nnrosetta_frontend_tf.layers._base import (
    LayerCall,
    LayerIssue,
    Out,
    OutVal,
    Tensor,
    Unsupported,
    inverse,
    layer,
)


def _is_symbolic(x) -> bool:
    return hasattr(x, "_keras_history")


def operands(call: LayerCall) -> list[tuple[str, object]]:
    """The call's positional operands: ("tensor", input index) or ("const", array)."""
    out, k = [], 0
    for a in call.args:
        if _is_symbolic(a):
            out.append(("tensor", k))
            k += 1
        else:
            try:
                out.append(("const", np.asarray(a, dtype=np.float32)))
            except (TypeError, ValueError) as e:
                raise Unsupported(f"{call.label}: operand {a!r} is not a number") from e
    return out


def _const_node(call, ctx, value: np.ndarray, like) -> tuple[object, dict]:
    """An IR Constant holding ``value`` (Keras broadcasting against ``like``) in the layout
    of ``like``."""
    v = np.asarray(value, np.float32)
    if v.ndim > like.rank:
        raise Unsupported(f"{call.label}: a constant of rank {v.ndim} against rank {like.rank}")
    if like.perm is not None and v.ndim > 0:
        v = v.reshape((1,) * (like.rank - v.ndim) + v.shape).transpose(like.perm)
    n = ctx.node(call, "Constant", [], "const")
    return n, {f"{n.name}.value": Tensor.of(np.ascontiguousarray(v))}


_BINARY = {"ops.Add": "Add", "ops.Subtract": "Sub", "ops.Multiply": "Mul",
           "ops.Divide": "Div", "ops.TrueDivide": "Div", "ops.Maximum": "Max",
           "ops.Minimum": "Min"}


def binary(call, ctx) -> Out:
    """keras.ops.add / subtract / multiply / divide / maximum / minimum (and x + y, x * 2.0,
    ...): tensors or numbers"""
    ops = operands(call)
    if len(ops) != 2:
        raise LayerIssue("BAD_INPUTS", f"{call.label}: {len(ops)} operands")
    ir_op = _BINARY[call.key]
    tensors = [i for kind, i in ops if kind == "tensor"]
    if len(tensors) == 2:
        a, b = ctx.aligned([0, 1])
        n = ctx.node(call, ir_op, [a.ref, b.ref])
        return Out([n], outputs=[OutVal(n.name, max((a, b), key=lambda v: v.rank).perm)])
    x = ctx.input(0)
    first_is_tensor = ops[0][0] == "tensor"
    c = ops[1][1] if first_is_tensor else ops[0][1]
    if c.size == 1:
        s = float(c.reshape(-1)[0])
        attrs = None
        if ir_op == "Add":
            attrs = ("Power", {"shift": s})
        elif ir_op == "Mul":
            attrs = ("Power", {"scale": s})
        elif ir_op == "Sub":
            attrs = ("Power", {"shift": -s} if first_is_tensor else {"scale": -1.0, "shift": s})
        elif ir_op == "Div" and first_is_tensor and s != 0.0:
            attrs = ("Power", {"scale": 1.0 / s})
        elif ir_op == "Max":
            attrs = ("Clip", {"min": s})
        elif ir_op == "Min":
            attrs = ("Clip", {"max": s})
        if attrs is not None:
            n = ctx.node(call, attrs[0], [x.ref], **attrs[1])
            return Out([n], outputs=[OutVal(n.name, x.perm)])
    cn, w = _const_node(call, ctx, c, x)
    refs = [x.ref, cn.name] if first_is_tensor else [cn.name, x.ref]
    n = ctx.node(call, ir_op, refs)
    return Out([cn, n], w, [OutVal(n.name, x.perm)])


for _key, _op in _BINARY.items():
    layer(_key, ir_ops=[_op, "Power", "Clip", "Constant"])(binary)


_UNARY: dict[str, tuple[str, dict]] = {
    "ops.Relu": ("Relu", {}), "ops.Relu6": ("Clip", {"min": 0.0, "max": 6.0}),
    "ops.Sigmoid": ("Sigmoid", {}), "ops.Tanh": ("Tanh", {}), "ops.Exp": ("Exp", {}),
    "ops.Log": ("Log", {}), "ops.Sqrt": ("Sqrt", {}), "ops.Abs": ("Abs", {}),
    "ops.Absolute": ("Abs", {}), "ops.Negative": ("Neg", {}), "ops.Erf": ("Erf", {}),
    "ops.Silu": ("Swish", {"alpha": 1.0}), "ops.Swish": ("Swish", {"alpha": 1.0}),
    "ops.Softplus": ("Softplus", {}), "ops.Softsign": ("Softsign", {}),
    "ops.Selu": ("Selu", {}), "ops.Mish": ("Mish", {}), "ops.HardSilu": ("HardSwish", {}),
    "ops.HardSwish": ("HardSwish", {}),
}


def unary(call, ctx) -> Out:
    """keras.ops.relu / relu6 / sigmoid / tanh / exp / log / sqrt / abs / negative / erf /
    silu / softplus / softsign / selu / mish / hard_silu / gelu / elu / leaky_relu"""
    x = ctx.input(0)
    if call.key == "ops.Gelu":
        op, attrs = "Gelu", {"approximate": "tanh" if call.cfg("approximate", True)
                             else "none"}
    elif call.key == "ops.Elu":
        op, attrs = "Elu", {"alpha": float(call.cfg("alpha", 1.0))}
    elif call.key == "ops.LeakyRelu":
        op, attrs = "LeakyRelu", {"alpha": float(call.cfg("negative_slope", 0.2))}
    else:
        op, attrs = _UNARY[call.key]
    n = ctx.node(call, op, [x.ref], **attrs)
    return Out([n], outputs=[OutVal(n.name, x.perm)])


for _key, (_op, _) in _UNARY.items():
    layer(_key, ir_ops=[_op])(unary)
layer("ops.Gelu", ir_ops=["Gelu"])(unary)
layer("ops.Elu", ir_ops=["Elu"])(unary)
layer("ops.LeakyRelu", ir_ops=["LeakyRelu"])(unary)


@layer("ops.Softmax", "ops.LogSoftmax", ir_ops=["Softmax", "LogSoftmax"])
def softmax(call, ctx) -> Out:
    """keras.ops.softmax / log_softmax(x, axis)"""
    x = ctx.input(0)
    axis = call.cfg("axis", -1)
    if isinstance(axis, (list, tuple)):
        if len(axis) != 1:
            raise Unsupported(f"{call.label}: axis {axis}")
        axis = axis[0]
    op = "Softmax" if call.key == "ops.Softmax" else "LogSoftmax"
    n = ctx.node(call, op, [x.ref], axis=x.ir_axis(int(axis)))
    return Out([n], outputs=[OutVal(n.name, x.perm)])


@layer("ops.Concatenate", ir_ops=["Concat"])
def concatenate(call, ctx) -> Out:
    """keras.ops.concatenate(xs, axis)"""
    vals = ctx.aligned(list(range(call.n_inputs)))
    n = ctx.node(call, "Concat", [v.ref for v in vals],
                 axis=vals[0].ir_axis(int(call.cfg("axis", 0))))
    return Out([n], outputs=[OutVal(n.name, vals[0].perm)])


@layer("ops.Reshape", ir_ops=["Reshape", "Transpose"])
def reshape(call, ctx) -> Out:
    """keras.ops.reshape(x, newshape) (the batch dim included)"""
    x = ctx.source_layout(0)
    shape = [int(d) for d in call.cfg("newshape")]
    if shape and shape[0] == -1 and -1 not in shape[1:] and \
            math.prod(shape[1:]) == math.prod(x.shape[1:]):
        n = ctx.node(call, "Reshape", [x.ref], shape=shape)    # any batch size
        return Out([n], outputs=[OutVal(n.name, None)])
    total = math.prod(x.shape)
    if shape.count(-1) > 1:
        raise LayerIssue("BAD_CONFIG", f"{call.label}: newshape {shape} has several -1")
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        if known == 0 or total % known:
            raise LayerIssue("BAD_SHAPE", f"{call.label}: cannot reshape {x.shape} to {shape}")
        shape[shape.index(-1)] = total // known
    if math.prod(shape) != total:
        raise LayerIssue("BAD_SHAPE", f"{call.label}: cannot reshape {list(x.shape)} to "
                         f"{shape}")
    n = ctx.node(call, "Reshape", [x.ref], shape=shape)
    return Out([n], outputs=[OutVal(n.name, None)])


@layer("ops.Transpose", ir_ops=["Identity"])
def transpose(call, ctx) -> Out:
    """keras.ops.transpose(x, axes): the layout bookkeeping changes, no data moves"""
    x = ctx.input(0)
    axes = call.cfg("axes")
    q = tuple(int(a) % x.rank for a in axes) if axes is not None else \
        tuple(range(x.rank))[::-1]
    inv_q = inverse(q)
    p = tuple(inv_q[a] for a in x.ir_perm())
    n = ctx.node(call, "Identity", [x.ref])
    return Out([n], outputs=[OutVal(n.name, p)])


_REDUCE = {"ops.Mean": "ReduceMean", "ops.Sum": "ReduceSum", "ops.Max": "ReduceMax",
           "ops.Min": "ReduceMin", "ops.Amax": "ReduceMax", "ops.Amin": "ReduceMin",
           "ops.Prod": "ReduceProd"}


def reduce(call, ctx) -> Out:
    """keras.ops.mean / sum / max / min / prod(x, axis, keepdims)"""
    x = ctx.input(0)
    axis = call.cfg("axis")
    src = sorted({int(a) % x.rank for a in (axis if isinstance(axis, (list, tuple)) else
                                              [axis])}) if axis is not None \
        else list(range(x.rank))
    keep = bool(call.cfg("keepdims", False))
    ir_axes = sorted(x.ir_axis(a) for a in src)
    n = ctx.node(call, _REDUCE[call.key], [x.ref], axes=ir_axes, keepdims=keep)
    if keep or x.perm is None:
        return Out([n], outputs=[OutVal(n.name, x.perm if keep else None)])
    kept = [a for i, a in enumerate(x.ir_perm()) if i not in ir_axes]
    renum = {a: a - sum(s < a for s in src) for a in kept}
    perm = tuple(renum[a] for a in kept)
    return Out([n], outputs=[OutVal(n.name, perm)])


for _key, _op in _REDUCE.items():
    layer(_key, ir_ops=[_op])(reduce)
