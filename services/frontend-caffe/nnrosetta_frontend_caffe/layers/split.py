from nnrosetta_frontend_caffe.layers._base import Layer, LayerIssue, Out, converter


@converter("Split")
def convert(layer: Layer, ctx) -> Out:
    """Caffe's Split copies its bottom to every top: aliases, no IR node."""
    if len(layer.bottom) != 1:
        raise LayerIssue("BAD_PARAM", f"Split layer {layer.name!r} needs one bottom")
    ref = ctx.ref(layer.bottom[0])
    return Out([], tops=[ref] * len(layer.top))
