from nnrosetta.ir.graph import make_ref
from nnrosetta_frontend_caffe.layers._base import (
    Layer,
    LayerIssue,
    Out,
    canon_axis,
    converter,
    need_shape,
    node,
)


@converter("Slice")
def convert(layer: Layer, ctx) -> Out:
    """Caffe's Slice -> IR Split with explicit sizes (from slice_point, or equal parts)."""
    p = layer.param.slice_param
    if len(layer.bottom) != 1:
        raise LayerIssue("BAD_PARAM", f"Slice layer {layer.name!r} needs one bottom")
    bottom = layer.bottom[0]
    s = need_shape(ctx, layer, bottom)
    axis = int(p.slice_dim) if p.HasField("slice_dim") else int(p.axis)
    axis = canon_axis(axis, len(s), layer)
    dim = int(s[axis])
    ntop = len(layer.top)
    points = [int(v) for v in p.slice_point]
    if points:
        if len(points) != ntop - 1 or points != sorted(points) or points[-1] >= dim or \
                points[0] <= 0:
            raise LayerIssue("BAD_PARAM", f"Slice layer {layer.name!r}: slice_point {points} "
                             f"does not cut dim {dim} into {ntop} parts")
        edges = [0, *points, dim]
        sizes = [b - a for a, b in zip(edges, edges[1:], strict=False)]
    else:
        if dim % ntop:
            raise LayerIssue("BAD_SHAPE", f"Slice layer {layer.name!r}: dim {dim} of "
                             f"{bottom!r} is not divisible into {ntop} equal parts")
        sizes = [dim // ntop] * ntop
    n = node(layer, "Split", [ctx.ref(bottom)], axis=axis, split=sizes)
    return Out([n], tops=[make_ref(n.name, i) for i in range(ntop)])
