"""Reduce* (axes an attribute before opset 18 -- 13 for ReduceSum -- an input after), ArgMax,
ArgMin."""

from nnrosetta_frontend_onnx.importers._base import Out, canon_axis, importer, ints, node

REDUCE = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
          "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]


def _reduce(onode, ctx) -> Out:
    axes_from = 13 if onode.op_type == "ReduceSum" else 18
    if onode.opset >= axes_from:
        axes = ints(ctx.const(onode.input(1), "axes")) if ctx.has(onode.input(1)) else []
        noop = bool(onode.attr("noop_with_empty_axes", 0))
    else:
        axes = [int(a) for a in onode.attr("axes", [])]
        noop = False
    x = ctx.shape(onode.input(0))
    if axes and x is not None:
        axes = sorted(canon_axis(a, len(x), onode) for a in axes)
    return Out([node(onode, onode.op_type, [ctx.ref(onode.input(0))], axes=axes,
                     keepdims=bool(onode.attr("keepdims", 1)), noop_with_empty_axes=noop)])


for _t in REDUCE:
    importer(_t, since=1, ir_ops=[_t])(_reduce)


def _arg(onode, ctx) -> Out:
    x = ctx.shape(onode.input(0))
    axis = int(onode.attr("axis", 0))
    if x is not None:
        axis = canon_axis(axis, len(x), onode)
    return Out([node(onode, onode.op_type, [ctx.ref(onode.input(0))], axis=axis,
                     keepdims=bool(onode.attr("keepdims", 1)),
                     select_last_index=bool(onode.attr("select_last_index", 0)))])


for _t in ("ArgMax", "ArgMin"):
    importer(_t, since=1, ir_ops=[_t])(_arg)
