from nnrosetta_frontend_caffe.layers._base import Layer, Out, converter, node, one_bottom


@converter("Softmax")
def convert(layer: Layer, ctx) -> Out:
    return Out([node(layer, "Softmax", [ctx.ref(one_bottom(layer))],
                     axis=int(layer.param.softmax_param.axis))])
