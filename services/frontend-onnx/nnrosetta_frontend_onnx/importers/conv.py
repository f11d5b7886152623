"""Conv (2-D, groups, dilations, auto_pad) -> IR Conv."""

from nnrosetta_frontend_onnx.importers._base import NodeIssue, Out, importer, node
from nnrosetta_frontend_onnx.importers._spatial import auto_pads, check_2d, two


@importer("Conv", since=1, ir_ops=["Conv"])
def conv(onode, ctx) -> Out:
    x = ctx.need_shape(onode, onode.input(0))
    check_2d(onode, x)
    w = ctx.tensor(onode.input(1), "weight W")
    if len(w.shape) != 4:
        raise NodeIssue("BAD_SHAPE", f"{onode.label}: weight of shape {list(w.shape)} is not "
                        "[O, C/group, kH, kW]")
    k = two(onode, "kernel_shape", list(w.shape[2:]))
    s = two(onode, "strides", [1, 1])
    d = two(onode, "dilations", [1, 1])
    g = int(onode.attr("group", 1))
    pads = auto_pads(onode, list(x[2:]), k, s, d)
    n = node(onode, "Conv", [ctx.ref(onode.input(0))], kernel_shape=k, strides=s, pads=pads,
             dilations=d, group=g)
    weights = {f"{n.name}.weight": w}
    if ctx.has(onode.input(2)):
        b = ctx.tensor(onode.input(2), "bias B")
        weights[f"{n.name}.bias"] = b.map(lambda a: a.reshape(-1), (w.shape[0],))
    return Out([n], weights)
