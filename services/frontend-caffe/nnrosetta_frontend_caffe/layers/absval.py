from nnrosetta_frontend_caffe.layers._base import Layer, Out, converter, node, one_bottom


@converter("AbsVal")
def convert(layer: Layer, ctx) -> Out:
    return Out([node(layer, "Abs", [ctx.ref(one_bottom(layer))])])
