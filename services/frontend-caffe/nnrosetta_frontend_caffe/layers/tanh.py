from nnrosetta_frontend_caffe.layers._base import Layer, Out, converter, node, one_bottom


@converter("TanH")
def convert(layer: Layer, ctx) -> Out:
    return Out([node(layer, "Tanh", [ctx.ref(one_bottom(layer))])])
