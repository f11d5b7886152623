from nnrosetta_frontend_caffe.layers._base import Layer, Out, converter, node, one_bottom


@converter("Flatten")
def convert(layer: Layer, ctx) -> Out:
    p = layer.param.flatten_param
    return Out([node(layer, "Flatten", [ctx.ref(one_bottom(layer))], axis=int(p.axis),
                     end_axis=int(p.end_axis))])
