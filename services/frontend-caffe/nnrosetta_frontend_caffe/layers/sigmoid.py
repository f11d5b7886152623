from nnrosetta_frontend_caffe.layers._base import Layer, Out, converter, node, one_bottom


@converter("Sigmoid")
def convert(layer: Layer, ctx) -> Out:
    return Out([node(layer, "Sigmoid", [ctx.ref(one_bottom(layer))])])
