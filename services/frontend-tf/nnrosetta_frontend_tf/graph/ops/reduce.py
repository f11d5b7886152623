"""Mean / Sum / Max / Min / Prod (global pooling included) -> IR Reduce*; ArgMax / ArgMin."""

from nnrosetta_frontend_tf.graph.layout import canon_axis, drop_dims, ir_axis
from nnrosetta_frontend_tf.graph.ops._base import ints, tf_op

REDUCE = {"Mean": "ReduceMean", "Sum": "ReduceSum", "Max": "ReduceMax", "Min": "ReduceMin",
          "Prod": "ReduceProd"}


@tf_op(*REDUCE, ir_ops=sorted(REDUCE.values()))
def reduce(node, ctx):
    """Mean(input, axis, keep_dims): the axes are mapped to the IR layout."""
    x = ctx.act(node.input(0))
    axes = sorted({canon_axis(a, x.rank) for a in ints(ctx.const(node.input(1), "axis"))})
    if not axes:
        return [x]
    keep = bool(node.attr("keep_dims", False))
    attrs = {"axes": sorted(ir_axis(a, x.perm, x.rank) for a in axes), "keepdims": keep}
    perm = x.perm if keep else drop_dims(x.perm, axes, x.rank)
    return [ctx.emit(REDUCE[node.op], [x.ref], attrs, perm=perm, source=True)]


@tf_op("ArgMax", "ArgMin", ir_ops=["ArgMax", "ArgMin", "Cast"])
def arg(node, ctx):
    """ArgMax(input, dimension, output_type)."""
    x = ctx.act(node.input(0))
    a = canon_axis(ints(ctx.const(node.input(1), "dimension"))[0], x.rank)
    perm = drop_dims(x.perm, [a], x.rank)
    to = node.attr("output_type", "int64")
    y = ctx.emit(node.op, [x.ref], {"axis": ir_axis(a, x.perm, x.rank), "keepdims": False},
                 perm=perm, source=to == "int64", dtype="int64", suffix="" if to == "int64"
                 else "arg")
    if to == "int64":
        return [y]
    return [ctx.emit("Cast", [y.ref], {"to": to}, perm=perm, source=True, dtype=to)]
