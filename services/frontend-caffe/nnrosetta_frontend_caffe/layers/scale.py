from nnrosetta_frontend_caffe.layers._base import (
    Layer,
    LayerIssue,
    Out,
    Unsupported,
    canon_axis,
    converter,
    need_shape,
    node,
)


@converter("Scale")
def convert(layer: Layer, ctx) -> Out:
    p = layer.param.scale_param
    if len(layer.bottom) != 1 or len(layer.top) != 1:
        raise Unsupported(f"Scale layer {layer.name!r} with {len(layer.bottom)} bottoms (the "
                          "scale as a second input is not supported; only learned scales)")
    bottom = layer.bottom[0]
    s = ctx.shape(bottom)
    rank = None if s is None else len(s)
    axis = canon_axis(int(p.axis), rank, layer)
    if s is not None:
        end = rank if p.num_axes == -1 else axis + int(p.num_axes)
        if p.num_axes < -1 or end > rank:
            raise LayerIssue("BAD_PARAM", f"Scale layer {layer.name!r}: axis {axis} num_axes "
                             f"{p.num_axes} do not fit input rank {rank}")
        expected = tuple(int(d) for d in s[axis:end])
    else:
        need_shape(ctx, layer, bottom)
        expected = ()
    n = node(layer, "Scale", [ctx.ref(bottom)], axis=axis)
    weights = {f"{n.name}.scale": ctx.blob(layer, 0, expected, "scale")}
    if p.bias_term:
        weights[f"{n.name}.bias"] = ctx.blob(layer, 1, expected, "bias")
    return Out([n], weights)
