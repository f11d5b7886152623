from nnrosetta_frontend_caffe.layers._base import Layer, Out, converter, node, one_bottom


@converter("Dropout")
def convert(layer: Layer, ctx) -> Out:
    return Out([node(layer, "Dropout", [ctx.ref(one_bottom(layer))],
                     ratio=float(layer.param.dropout_param.dropout_ratio))])
