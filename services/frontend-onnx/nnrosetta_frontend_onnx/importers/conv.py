"""Conv (1-D to 3-D, groups, dilations, auto_pad) -> IR Conv."""

from nnrosetta_frontend_onnx.importers._base import NodeIssue, Out, bind_inputs, importer, node
from nnrosetta_frontend_onnx.importers._spatial import auto_pads, per_axis, spatial_rank


def _window(onode, x, wshape) -> tuple[list[int], list[int], list[int]]:
    """kernel_shape, strides, dilations per spatial axis (the kernel from the weight's
    shape when absent)."""
    n = len(x) - 2
    if len(wshape) != n + 2:
        raise NodeIssue("BAD_SHAPE", f"{onode.label}: weight of shape {list(wshape)} is not "
                        f"[O, C/group, *kernel] with {n} kernel axes")
    return (per_axis(onode, "kernel_shape", n, list(wshape[2:])),
            per_axis(onode, "strides", n, [1] * n), per_axis(onode, "dilations", n, [1] * n))


@importer("Conv", since=1, ir_ops=["Conv"])
def conv(onode, ctx) -> Out:
    x = ctx.need_shape(onode, onode.input(0))
    spatial_rank(onode, x)
    if not ctx.is_const(onode.input(1)) or (ctx.has(onode.input(2))
                                             and not ctx.is_const(onode.input(2))):
        return _dynamic(onode, ctx, x)
    w = ctx.tensor(onode.input(1), "weight W")
    k, s, d = _window(onode, x, w.shape)
    g = int(onode.attr("group", 1))
    pads = auto_pads(onode, list(x[2:]), k, s, d)
    n = node(onode, "Conv", [ctx.ref(onode.input(0))], kernel_shape=k, strides=s, pads=pads,
             dilations=d, group=g)
    weights = {f"{n.name}.weight": w}
    if ctx.has(onode.input(2)):
        b = ctx.tensor(onode.input(2), "bias B")
        weights[f"{n.name}.bias"] = b.map(lambda a: a.reshape(-1), (w.shape[0],))
    return Out([n], weights)


def _dynamic(onode, ctx, x) -> Out:
    """Weight and/or bias computed at run time: bound to the IR Conv's inputs (a constant
    one of the two stays a stored weight)."""
    wshape = ctx.need_shape(onode, onode.input(1))
    k, s, d = _window(onode, x, wshape)
    pads = auto_pads(onode, list(x[2:]), k, s, d)
    n = node(onode, "Conv", [ctx.ref(onode.input(0))], kernel_shape=k, strides=s, pads=pads,
             dilations=d, group=int(onode.attr("group", 1)))
    weights, bound = {}, {}
    for i, role in ((1, "weight"), (2, "bias")):
        name = onode.input(i)
        if not ctx.has(name):
            continue
        if ctx.is_const(name):
            t = ctx.tensor(name, role)
            weights[f"{n.name}.{role}"] = t if role == "weight" else t.map(
                lambda a: a.reshape(-1), (int(wshape[0]),))
        else:
            bound[role] = ctx.ref(name)
    return Out([bind_inputs(n, bound)], weights)
