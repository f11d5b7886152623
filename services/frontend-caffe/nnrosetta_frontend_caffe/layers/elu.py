from nnrosetta_frontend_caffe.layers._base import Layer, Out, converter, node, one_bottom


@converter("ELU")
def convert(layer: Layer, ctx) -> Out:
    return Out([node(layer, "Elu", [ctx.ref(one_bottom(layer))],
                     alpha=float(layer.param.elu_param.alpha))])
