from nnrosetta_frontend_caffe.layers._base import Layer, Out, converter, node, one_bottom


@converter("PReLU")
def convert(layer: Layer, ctx) -> Out:
    bottom = one_bottom(layer)
    s = ctx.shape(bottom)
    shared = layer.param.prelu_param.channel_shared
    c = 1 if shared else (None if s is None else int(s[1]))
    n = node(layer, "PRelu", [ctx.ref(bottom)])
    return Out([n], {f"{n.name}.slope": ctx.blob(layer, 0, (c,), "slope")})
