"""ConvTranspose (1-D to 3-D, groups, dilations, output_padding, output_shape, auto_pad) -> IR
ConvTranspose."""

from nnrosetta_frontend_onnx.importers._base import (
    NodeIssue,
    Out,
    Unsupported,
    bind_inputs,
    importer,
    node,
)
from nnrosetta_frontend_onnx.importers._spatial import per_axis, spatial_rank


@importer("ConvTranspose", since=1, ir_ops=["ConvTranspose"])
def conv_transpose(onode, ctx) -> Out:
    x = ctx.need_shape(onode, onode.input(0))
    nsp = spatial_rank(onode, x)
    # a weight computed at run time is bound to the IR node's input (needs its shape)
    wshape = ctx.shape(onode.input(1)) if ctx.is_const(onode.input(1)) else \
        ctx.need_shape(onode, onode.input(1))
    if len(wshape) != nsp + 2:
        raise NodeIssue("BAD_SHAPE", f"{onode.label}: weight of shape {list(wshape)} is not "
                        f"[C, O/group, *kernel] with {nsp} kernel axes")
    k = per_axis(onode, "kernel_shape", nsp, list(wshape[2:]))
    s = per_axis(onode, "strides", nsp, [1] * nsp)
    d = per_axis(onode, "dilations", nsp, [1] * nsp)
    op = per_axis(onode, "output_padding", nsp, [0] * nsp)
    g = int(onode.attr("group", 1))
    mode = onode.attr("auto_pad", "NOTSET") or "NOTSET"
    out_shape = onode.attr("output_shape")
    if out_shape is not None or mode in ("SAME_UPPER", "SAME_LOWER"):
        if out_shape is not None:
            out_shape = [int(v) for v in out_shape][-nsp:]
            if len(out_shape) != nsp:
                raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: output_shape "
                                f"{onode.attr('output_shape')} has fewer than {nsp} values")
        else:
            out_shape = [x[2 + a] * s[a] for a in range(nsp)]
        begin, end = [], []
        for a in range(nsp):
            total = s[a] * (x[2 + a] - 1) + op[a] + (k[a] - 1) * d[a] + 1 - out_shape[a]
            if total < 0 and onode.attr("output_shape") is not None:
                # a larger output_shape extends the result at the end: output padding
                op[a] -= total
                total = 0
            if total < 0:
                raise Unsupported(f"{onode.label}: output_shape {out_shape} needs negative "
                                  "padding")
            small = total // 2
            if mode == "SAME_LOWER":
                begin.append(total - small)
                end.append(small)
            else:
                begin.append(small)
                end.append(total - small)
        pads = begin + end
    elif mode == "VALID":
        pads = [0] * (2 * nsp)
    else:
        pads = [int(v) for v in onode.attr("pads", None) or [0] * (2 * nsp)]
        if len(pads) != 2 * nsp:
            raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: pads {pads} need {2 * nsp} "
                            "values")
        if min(pads) < 0:
            raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: negative pads {pads}")
    n = node(onode, "ConvTranspose", [ctx.ref(onode.input(0))], kernel_shape=k, strides=s,
             pads=pads, dilations=d, group=g, output_padding=op)
    weights, bound = {}, {}
    if ctx.is_const(onode.input(1)):
        weights[f"{n.name}.weight"] = ctx.tensor(onode.input(1), "weight W")
    else:
        bound["weight"] = ctx.ref(onode.input(1))
    if ctx.has(onode.input(2)):
        if ctx.is_const(onode.input(2)):
            b = ctx.tensor(onode.input(2), "bias B")
            weights[f"{n.name}.bias"] = b.map(lambda a: a.reshape(-1), (wshape[1] * g,))
        else:
            bound["bias"] = ctx.ref(onode.input(2))
    return Out([bind_inputs(n, bound)], weights)
