"""Reshape, Squeeze, ExpandDims, Transpose, Tile: layout-aware (a Transpose back to the
source layout only where a Reshape needs it)."""

import math

import numpy as np

from nnrosetta_frontend_tf.graph.layout import (
    Act,
    canon_axis,
    channels_first,
    drop_dims,
    insert_dim,
    ir_axis,
    ir_shape,
    same_memory_order,
    transposed,
)
from nnrosetta_frontend_tf.graph.ops._base import NodeIssue, ints, tf_op

_MATMULS = ("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3")
_PASS = ("Identity", "StopGradient", "Snapshot", "PreventGradient")


def resolve(node, shape: list[int], total: int) -> tuple[int, ...]:
    """A TF Reshape target with its -1 resolved."""
    known = math.prod(d for d in shape if d != -1)
    if shape.count(-1) > 1 or any(d < -1 for d in shape) or \
            (shape.count(-1) and (known == 0 or total % known)) or \
            (not shape.count(-1) and known != total):
        raise NodeIssue("BAD_SHAPE", f"{node.label}: cannot reshape {total} elements to {shape}")
    return tuple(total // known if d == -1 else d for d in shape)


def _dense_only(ctx, tensor: str) -> bool:
    """Only MatMuls by constant matrices read ``tensor`` (as their left operand), directly or
    through Identity-like ops."""
    cons = ctx.consumers(tensor)
    if not cons or tensor in ctx.graph_outputs:
        return False
    for c in cons:
        if c.op in _PASS and c.input(0) == tensor and len(c.inputs) == 1:
            if not _dense_only(ctx, f"{c.name}:0"):
                return False
            continue
        if c.op not in _MATMULS or c.input(0) != tensor or c.input(1) == tensor or \
                not ctx.is_const(c.input(1)) or c.attr("transpose_a") or c.attr("adj_x"):
            return False
    return True


@tf_op("Reshape", ir_ops=["Reshape", "Flatten", "Transpose"])
def reshape(node, ctx):
    """Reshape(tensor, shape)."""
    x = ctx.act(node.input(0))
    target = resolve(node, ints(ctx.const(node.input(1), "shape")), math.prod(x.src_shape))
    if target == x.src_shape:
        return [x]
    if x.feat is None and (x.perm is None or same_memory_order(x.src_shape, x.perm)):
        cf = channels_first(len(target)) if len(target) in (4, 5) else None
        if cf is not None and same_memory_order(target, cf):
            # e.g. [N, C] -> [N, 1, 1, C] of a squeeze-excite block: straight to channels first
            return [ctx.emit("Reshape", [x.ref], {"shape": list(ir_shape(target, cf))},
                             perm=cf, source=True)]
        return [ctx.emit("Reshape", [x.ref], {"shape": list(target)}, source=True)]
    if x.feat is None and len(target) == 2 and target[0] == x.src_shape[0] and \
            x.perm[0] == 0 and _dense_only(ctx, f"{node.name}:0"):
        # Flatten -> Dense: flatten channels first, permute the Dense weight rows instead
        ids = np.arange(math.prod(x.src_shape[1:])).reshape((1, *x.src_shape[1:]))
        feat = ids.transpose(x.perm).reshape(-1)
        y = ctx.emit("Flatten", [x.ref], {"axis": 1})
        return [Act(y.ref, target, None, x.dtype, feat)]
    x = ctx.source_layout(x)
    return [ctx.emit("Reshape", [x.ref], {"shape": list(target)}, source=True)]


@tf_op("Squeeze", ir_ops=["Squeeze"])
def squeeze(node, ctx):
    """Squeeze(input, squeeze_dims): no data moves, in any layout."""
    x = ctx.act(node.input(0))
    dims = node.attr("squeeze_dims") or []
    axes = sorted({canon_axis(a, x.rank) for a in dims}) if dims else \
        [i for i, d in enumerate(x.src_shape) if d == 1]
    if any(x.src_shape[a] != 1 for a in axes):
        raise NodeIssue("BAD_SHAPE", f"{node.label}: cannot squeeze dims {axes} of shape "
                        f"{list(x.src_shape)}")
    if not axes:
        return [x]
    if x.feat is not None:
        x = ctx.source_layout(x)
    ir_axes = sorted(ir_axis(a, x.perm, x.rank) for a in axes)
    return [ctx.emit("Squeeze", [x.ref], {"axes": ir_axes},
                     perm=drop_dims(x.perm, axes, x.rank), source=True)]


@tf_op("ExpandDims", ir_ops=["Unsqueeze"])
def expand_dims(node, ctx):
    """ExpandDims(input, axis): the new dim goes where it keeps a channels-first layout."""
    x = ctx.act(node.input(0))
    a = canon_axis(ints(ctx.const(node.input(1), "axis"))[0], x.rank + 1)
    perm, pos = insert_dim(x.perm, a, x.rank)
    return [ctx.emit("Unsqueeze", [x.ref], {"axes": [pos]}, perm=perm, source=True)]


@tf_op("Transpose", ir_ops=[])
def transpose(node, ctx):
    """Transpose(x, perm): no IR node; the output is the input in another layout."""
    x = ctx.act(node.input(0))
    p = [canon_axis(a, x.rank) for a in ints(ctx.const(node.input(1), "perm"))]
    if sorted(p) != list(range(x.rank)):
        raise NodeIssue("BAD_ATTRIBUTE", f"{node.label}: perm {p} for rank {x.rank}")
    if x.feat is not None:
        x = ctx.source_layout(x)
    return [transposed(x, p)]


@tf_op("Tile", ir_ops=["Tile"])
def tile(node, ctx):
    """Tile(input, multiples)."""
    x = ctx.act(node.input(0))
    m = ints(ctx.const(node.input(1), "multiples"))
    reps = m if x.perm is None else [m[p] for p in x.perm]
    return [ctx.emit("Tile", [x.ref], {"repeats": reps}, perm=x.perm, source=True)]
