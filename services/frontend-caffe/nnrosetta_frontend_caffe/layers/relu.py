from nnrosetta_frontend_caffe.layers._base import Layer, Out, converter, node, one_bottom


@converter("ReLU")
def convert(layer: Layer, ctx) -> Out:
    x = ctx.ref(one_bottom(layer))
    slope = float(layer.param.relu_param.negative_slope)
    if slope != 0.0:
        return Out([node(layer, "LeakyRelu", [x], alpha=slope)])
    return Out([node(layer, "Relu", [x])])
