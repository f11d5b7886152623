"""ConcatV2 / Concat, Pack, Unpack, Split / SplitV: along the axis the layout maps to."""

import numpy as np

from nnrosetta_frontend_tf.graph.layout import Act, canon_axis, const_in, drop_dims, ir_axis
from nnrosetta_frontend_tf.graph.ops._base import NodeIssue, ints, tf_op


def _same_layout(ctx, tensors):
    """Refs of same-rank inputs in one layout (the first permuted activation's), rank, layout."""
    vals = [ctx.value(t) for t in tensors]
    ranks = {v.rank if isinstance(v, Act) else np.ndim(v) for v in vals}
    if len(ranks) != 1:
        raise NodeIssue("BAD_SHAPE", f"{ctx.node.label}: inputs of ranks {sorted(ranks)}")
    rank = ranks.pop()
    perm = next((v.perm for v in vals if isinstance(v, Act) and v.perm is not None), None)
    refs = []
    for t, v in zip(tensors, vals, strict=True):
        if isinstance(v, Act):
            refs.append(ctx.layout(v, perm).ref)
        else:
            refs.append(ctx.const_act(const_in(v, rank, perm), key=(t, perm)).ref)
    return refs, rank, perm


@tf_op("ConcatV2", "Concat", ir_ops=["Concat"])
def concat(node, ctx):
    """ConcatV2(values*, axis) / Concat(concat_dim, values*)."""
    if node.op == "ConcatV2":
        tensors, axis_t = node.inputs[:-1], node.inputs[-1]
    else:
        tensors, axis_t = node.inputs[1:], node.inputs[0]
    refs, rank, perm = _same_layout(ctx, tensors)
    axis = ir_axis(ints(ctx.const(axis_t, "axis"))[0], perm, rank)
    if len(refs) == 1:
        return [ctx.value(tensors[0])]
    return [ctx.emit("Concat", refs, {"axis": axis}, perm=perm, source=True)]


@tf_op("Pack", ir_ops=["Unsqueeze", "Concat"])
def pack(node, ctx):
    """Pack(values*, axis): each input gets the new dim, then they are concatenated."""
    ranks = {ctx.act(t).rank for t in node.inputs}
    if len(ranks) != 1:
        raise NodeIssue("BAD_SHAPE", f"{node.label}: inputs of ranks {sorted(ranks)}")
    a = canon_axis(int(node.attr("axis", 0)), ranks.pop() + 1)
    parts = [ctx.emit("Unsqueeze", [ctx.source_layout(ctx.act(t)).ref], {"axes": [a]},
                      suffix=f"in{i}").ref for i, t in enumerate(node.inputs)]
    if len(parts) == 1:
        return [ctx.emit("Identity", parts, source=True)]
    return [ctx.emit("Concat", parts, {"axis": a}, source=True)]


def _split(node, ctx, x: Act, axis: int, sizes: list[int], squeeze: bool):
    if sum(sizes) != x.src_shape[axis]:
        raise NodeIssue("BAD_SHAPE", f"{node.label}: sizes {sizes} do not add up to dim "
                        f"{axis} of shape {list(x.src_shape)}")
    ia = ir_axis(axis, x.perm, x.rank)
    if len(sizes) == 1 and not squeeze:
        return [x]
    y = ctx.emit("Split", [x.ref], {"axis": ia, "split": sizes}, perm=x.perm,
                 source=not squeeze)
    outs = [ctx.output_act(y.ref if i == 0 else f"{y.ref}:{i}", x.perm)
            for i in range(len(sizes))]
    if not squeeze:
        return outs
    perm = drop_dims(x.perm, [axis], x.rank)
    return [ctx.emit("Squeeze", [o.ref], {"axes": [ia]}, perm=perm,
                     source=node.name if i == 0 else f"{node.name}:{i}", suffix=f"out{i}")
            for i, o in enumerate(outs)]


@tf_op("Split", "SplitV", ir_ops=["Split"])
def split(node, ctx):
    """Split(axis, value, num_split) / SplitV(value, size_splits, axis)."""
    if node.op == "Split":
        x = ctx.act(node.input(1))
        axis = canon_axis(ints(ctx.const(node.input(0), "axis"))[0], x.rank)
        n = int(node.attr("num_split", 1))
        if x.src_shape[axis] % n:
            raise NodeIssue("BAD_SHAPE", f"{node.label}: dim {x.src_shape[axis]} does not "
                            f"split in {n}")
        sizes = [x.src_shape[axis] // n] * n
    else:
        x = ctx.act(node.input(0))
        axis = canon_axis(ints(ctx.const(node.input(2), "axis"))[0], x.rank)
        sizes = ints(ctx.const(node.input(1), "size_splits"))
        if sizes.count(-1) == 1:
            sizes[sizes.index(-1)] = x.src_shape[axis] - (sum(sizes) + 1)
    return _split(node, ctx, x, axis, sizes, squeeze=False)


@tf_op("Unpack", ir_ops=["Split", "Squeeze"])
def unpack(node, ctx):
    """Unpack(value, num, axis)."""
    x = ctx.act(node.input(0))
    axis = canon_axis(int(node.attr("axis", 0)), x.rank)
    return _split(node, ctx, x, axis, [1] * x.src_shape[axis], squeeze=True)
