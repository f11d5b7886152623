from nnrosetta_frontend_caffe.layers._base import Layer, LayerIssue, Out, converter, node


@converter("Input")
def convert(layer: Layer, ctx) -> Out:
    """Input layer: one IR Input per top, named after the top blob (inputs are fed by it)."""
    shapes = [tuple(int(d) for d in s.dim) for s in layer.param.input_param.shape]
    if len(shapes) not in (0, 1, len(layer.top)):
        raise LayerIssue("BAD_PARAM", f"Input layer {layer.name!r} has {len(layer.top)} tops "
                         f"but {len(shapes)} shapes (give one, or one per top)")
    nodes = []
    for i, top in enumerate(layer.top):
        declared = shapes[i] if len(shapes) > 1 else (shapes[0] if shapes else None)
        shape = ctx.input_shape(top, declared)
        nodes.append(node(layer, "Input", [], name=top, shape=list(shape), dtype="float32"))
    return Out(nodes, tops=[n.name for n in nodes])
