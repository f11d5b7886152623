from nnrosetta_frontend_caffe.layers._base import Layer, LayerIssue, Out, converter, node


@converter("Concat")
def convert(layer: Layer, ctx) -> Out:
    p = layer.param.concat_param
    if len(layer.top) != 1 or not layer.bottom:
        raise LayerIssue("BAD_PARAM", f"Concat layer {layer.name!r} needs bottoms and one top")
    axis = int(p.concat_dim) if p.HasField("concat_dim") else int(p.axis)
    return Out([node(layer, "Concat", [ctx.ref(b) for b in layer.bottom], axis=axis)])
