"""Broadcasting binary ops (Add, Mul, Maximum, comparisons ...), AddN, BiasAdd and Select.

Constant operands are permuted into the activation's layout at import time, so a channels-
first activation never goes back to channels last for an elementwise op. A Mul by a
per-channel constant followed by an Add of one (Keras' batch normalization) becomes one IR
Scale.
"""

import numpy as np

from nnrosetta_frontend_tf.graph.layout import Act, const_in
from nnrosetta_frontend_tf.graph.ops._base import tf_op

BINARY = {"Add": "Add", "AddV2": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div",
          "Div": "Div", "Maximum": "Max", "Minimum": "Min", "Pow": "Pow",
          "Greater": "Greater", "GreaterEqual": "GreaterOrEqual", "Less": "Less",
          "LessEqual": "LessOrEqual", "Equal": "Equal", "LogicalAnd": "And",
          "LogicalOr": "Or", "FloorMod": "Mod"}
_BOOL_OUT = {"Greater", "GreaterEqual", "Less", "LessEqual", "Equal", "LogicalAnd",
             "LogicalOr"}


def per_channel(c: np.ndarray, x: Act) -> np.ndarray | None:
    """``c`` as a ``[C]`` vector along IR axis 1 of ``x``, when broadcasting ``c`` against
    ``x`` scales / shifts whole channels and leaves ``x``'s shape unchanged."""
    c = np.asarray(c)
    if x.rank < 2 or c.ndim > x.rank or c.dtype.kind != "f" or x.feat is not None:
        return None
    ci = const_in(c, x.rank, x.perm)
    shape = x.ir_shape
    if any(d != 1 for i, d in enumerate(ci.shape) if i != 1) or ci.shape[1] not in (1, shape[1]):
        return None
    return np.ascontiguousarray(np.broadcast_to(ci.reshape(-1), (shape[1],)), np.float32)


def _act_and_const(node, ctx):
    """(activation input, constant input, index of the constant) or None."""
    a, b = node.input(0), node.input(1)
    if ctx.is_const(b) and not ctx.is_const(a):
        return ctx.value(a), ctx.const(b), 1
    if ctx.is_const(a) and not ctx.is_const(b):
        return ctx.value(b), ctx.const(a), 0
    return None


def _shift_follower(ctx, tensor: str, x: Act):
    """The Add/AddV2/BiasAdd/Sub that alone reads ``tensor`` and adds (subtracts) a
    per-channel constant: (node, bias) or None."""
    nxt = ctx.sole_consumer(tensor)
    if nxt is None or nxt.op not in ("Add", "AddV2", "BiasAdd", "Sub"):
        return None
    mine = 0 if nxt.input(0) == tensor else 1
    other = nxt.input(1 - mine)
    if not ctx.is_const(other) or (nxt.op in ("BiasAdd", "Sub") and mine != 0):
        return None
    c = ctx.const(other)
    if nxt.op == "BiasAdd":
        if c.ndim != 1 or c.shape[0] != x.src_shape[_bias_axis(nxt, x.rank)]:
            return None
        c = c.reshape((-1,) + (1,) * (x.rank - 1 - _bias_axis(nxt, x.rank)))
    b = per_channel(c, x)
    if b is None:
        return None
    return nxt, (-b if nxt.op == "Sub" else b)


def _bias_axis(node, rank: int) -> int:
    return 1 if node.data_format().startswith("NC") and rank > 2 else rank - 1


@tf_op(*BINARY, ir_ops=sorted(set(BINARY.values()) | {"Scale"}))
def binary(node, ctx):
    """Add(x, y), Mul(x, y), ...: NumPy broadcasting in the source layout."""
    if node.op == "Mul":
        ac = _act_and_const(node, ctx)
        if ac is not None:
            x, c, _ = ac
            scale = per_channel(c, x)
            if scale is not None:
                follow = _shift_follower(ctx, f"{node.name}:0", x)
                if follow is not None:
                    nxt, bias = follow
                    out = ctx.emit("Scale", [x.ref], {"axis": 1},
                                   {"scale": scale, "bias": bias}, perm=x.perm,
                                   source=nxt.name, source_op=nxt.op)
                    ctx.fuse(nxt, [out])
                    return [out]
                return [ctx.emit("Scale", [x.ref], {"axis": 1}, {"scale": scale},
                                 perm=x.perm, source=True)]
    refs, _, perm, _ = ctx.align([node.input(0), node.input(1)])
    op = BINARY[node.op]
    attrs = {"fmod": False} if op == "Mod" else {}
    return [ctx.emit(op, refs, attrs, perm=perm, source=True,
                     dtype="bool" if node.op in _BOOL_OUT else "float32")]


@tf_op("SquaredDifference", ir_ops=["Sub", "Mul"])
def squared_difference(node, ctx):
    """SquaredDifference(x, y) = (x - y) ** 2."""
    refs, _, perm, _ = ctx.align([node.input(0), node.input(1)])
    d = ctx.emit("Sub", refs, perm=perm, suffix="diff")
    return [ctx.emit("Mul", [d.ref, d.ref], perm=perm, source=True)]


@tf_op("FloorDiv", ir_ops=["Div", "Floor"])
def floor_div(node, ctx):
    """FloorDiv(x, y) = floor(x / y) (float tensors)."""
    refs, _, perm, _ = ctx.align([node.input(0), node.input(1)])
    q = ctx.emit("Div", refs, perm=perm, suffix="div")
    return [ctx.emit("Floor", [q.ref], perm=perm, source=True)]


@tf_op("AddN", ir_ops=["Sum"])
def add_n(node, ctx):
    """AddN(inputs*): equal shapes."""
    refs, _, perm, _ = ctx.align(node.inputs)
    return [ctx.emit("Sum", refs, perm=perm, source=True)]


@tf_op("BiasAdd", "BiasAddV1", ir_ops=["Add", "Scale"])
def bias_add(node, ctx):
    """BiasAdd(value, bias): bias along the channel axis of data_format. (After a Conv or
    MatMul it is folded into that node's bias.)"""
    x = ctx.act(node.input(0))
    b = ctx.value(node.input(1))
    axis = _bias_axis(node, x.rank)
    if isinstance(b, Act):
        shape = [1] * x.rank
        shape[axis] = -1
        b2 = ctx.emit("Reshape", [ctx.source_layout(b).ref], {"shape": shape}, suffix="bias")
        b2 = ctx.layout(Act(b2.ref, tuple(x.src_shape[i] if i == axis else 1
                                          for i in range(x.rank))), x.perm)
        return [ctx.emit("Add", [x.ref, b2.ref], perm=x.perm, source=True)]
    c = np.asarray(b).reshape([-1 if i == axis else 1 for i in range(x.rank)])
    cref = ctx.const_act(const_in(c, x.rank, x.perm), key=(node.input(1), x.perm, axis)).ref
    return [ctx.emit("Add", [x.ref, cref], perm=x.perm, source=True)]


@tf_op("Select", "SelectV2", ir_ops=["Where"])
def select(node, ctx):
    """SelectV2(condition, t, e) (Select: condition of the same shape)."""
    refs, _, perm, _ = ctx.align(node.inputs[:3])
    return [ctx.emit("Where", refs, perm=perm, source=True)]
