from nnrosetta_frontend_caffe.layers._base import (
    Layer,
    LayerIssue,
    Out,
    converter,
    node,
    one_bottom,
)
from nnrosetta_frontend_caffe.layers._geometry import conv_geometry


def conv_like(layer: Layer, ctx, op: str) -> Out:
    p = layer.param.convolution_param
    bottom = one_bottom(layer)
    geo = conv_geometry(p, layer)
    g = int(p.group)
    o = int(p.num_output)
    if g < 1 or o < 1 or o % g:
        raise LayerIssue("BAD_PARAM", f"layer {layer.name!r}: num_output {o} must be a positive "
                         f"multiple of group {g}")
    x = ctx.shape(bottom)
    cin = x[1] if x is not None and len(x) > 1 else None
    if cin is not None and cin % g:
        raise LayerIssue("BAD_SHAPE", f"layer {layer.name!r}: {cin} input channels are not "
                         f"divisible by group {g}")
    kh, kw = geo["kernel_shape"]
    if op == "Conv":
        expected = (o, None if cin is None else cin // g, kh, kw)
    else:
        expected = (cin, o // g, kh, kw)
    n = node(layer, op, [ctx.ref(bottom)], group=g, **geo)
    weights = {f"{n.name}.weight": ctx.blob(layer, 0, expected, "weight")}
    if p.bias_term:
        weights[f"{n.name}.bias"] = ctx.blob(layer, 1, (o,), "bias")
    return Out([n], weights)


@converter("Convolution")
def convert(layer: Layer, ctx) -> Out:
    return conv_like(layer, ctx, "Conv")
