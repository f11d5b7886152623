from nnrosetta_frontend_caffe.layers._base import Layer, Out, converter, node, one_bottom


@converter("Power")
def convert(layer: Layer, ctx) -> Out:
    p = layer.param.power_param
    return Out([node(layer, "Power", [ctx.ref(one_bottom(layer))], power=float(p.power),
                     scale=float(p.scale), shift=float(p.shift))])
