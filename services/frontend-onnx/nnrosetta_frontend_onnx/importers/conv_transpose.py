"""ConvTranspose (2-D, groups, dilations, output_padding, output_shape, auto_pad) -> IR
ConvTranspose."""

from nnrosetta_frontend_onnx.importers._base import (
    NodeIssue,
    Out,
    Unsupported,
    bind_inputs,
    importer,
    node,
)
from nnrosetta_frontend_onnx.importers._spatial import check_2d, two


@importer("ConvTranspose", since=1, ir_ops=["ConvTranspose"])
def conv_transpose(onode, ctx) -> Out:
    x = ctx.need_shape(onode, onode.input(0))
    check_2d(onode, x)
    # a weight computed at run time is bound to the IR node's input (needs its shape)
    wshape = ctx.shape(onode.input(1)) if ctx.is_const(onode.input(1)) else \
        ctx.need_shape(onode, onode.input(1))
    if len(wshape) != 4:
        raise NodeIssue("BAD_SHAPE", f"{onode.label}: weight of shape {list(wshape)} is not "
                        "[C, O/group, kH, kW]")
    k = two(onode, "kernel_shape", list(wshape[2:]))
    s = two(onode, "strides", [1, 1])
    d = two(onode, "dilations", [1, 1])
    op = two(onode, "output_padding", [0, 0])
    g = int(onode.attr("group", 1))
    mode = onode.attr("auto_pad", "NOTSET") or "NOTSET"
    out_shape = onode.attr("output_shape")
    if out_shape is not None or mode in ("SAME_UPPER", "SAME_LOWER"):
        if out_shape is not None:
            out_shape = [int(v) for v in out_shape][-2:]
        else:
            out_shape = [x[2 + a] * s[a] for a in range(2)]
        begin, end = [], []
        for a in range(2):
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
        pads = [0, 0, 0, 0]
    else:
        pads = [int(v) for v in onode.attr("pads", [0, 0, 0, 0])]
        if len(pads) != 4:
            raise Unsupported(f"{onode.label}: pads {pads} are not 2-D")
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
