"""Softmax, LogSoftmax, Hardmax. Opset >= 13: over one axis (default -1). Opset < 13: over
the input flattened to 2-D at ``axis`` (default 1): the same as one axis when axis is the
last; otherwise Flatten -> op -> Reshape back."""

from nnrosetta_frontend_onnx.importers._base import Out, canon_axis, importer, node


def _op(onode, ctx, ir_op: str) -> Out:
    x_name = onode.input(0)
    if onode.opset >= 13:
        return Out([node(onode, ir_op, [ctx.ref(x_name)], axis=int(onode.attr("axis", -1)))])
    x = ctx.need_shape(onode, x_name)
    axis = canon_axis(int(onode.attr("axis", 1)), len(x), onode)
    if all(d == 1 for d in x[axis + 1:]):
        return Out([node(onode, ir_op, [ctx.ref(x_name)], axis=axis)])
    # the flattened tensor holds the input's values in row-major order: source = the input
    flat = node(onode, "Flatten", [ctx.ref(x_name)], "flat", source=x_name, axis=axis,
                end_axis=-1)
    mid = node(onode, ir_op, [flat.name], "2d", axis=axis)
    back = node(onode, "Reshape", [mid.name], shape=[int(d) for d in x])
    return Out([flat, mid, back])


@importer("Softmax", since=1, ir_ops=["Softmax", "Flatten", "Reshape"])
def softmax(onode, ctx) -> Out:
    return _op(onode, ctx, "Softmax")


@importer("LogSoftmax", since=1, ir_ops=["LogSoftmax", "Flatten", "Reshape"])
def log_softmax(onode, ctx) -> Out:
    return _op(onode, ctx, "LogSoftmax")


@importer("Hardmax", since=1, ir_ops=["Hardmax", "Flatten", "Reshape"])
def hardmax(onode, ctx) -> Out:
    return _op(onode, ctx, "Hardmax")
