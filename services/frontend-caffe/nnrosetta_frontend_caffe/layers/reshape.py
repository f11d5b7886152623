import numpy as np

from nnrosetta_frontend_caffe.layers._base import (
    Layer,
    LayerIssue,
    Out,
    converter,
    need_shape,
    node,
    one_bottom,
)


def caffe_reshape(layer: Layer, x: tuple[int, ...]) -> tuple[list[int], list[bool]]:
    """Caffe's Reshape on input shape x: the output shape and, per output dim, whether it was
    copied from the input unchanged (outside axis..axis+num_axes, or a 0)."""
    p = layer.param.reshape_param
    rank = len(x)
    dims = [int(d) for d in p.shape.dim]
    axis = int(p.axis)
    start = axis if axis >= 0 else rank + axis + 1
    num_axes = int(p.num_axes)
    end = rank if num_axes == -1 else start + num_axes
    if not (0 <= start <= rank) or not (start <= end <= rank):
        raise LayerIssue("BAD_PARAM", f"Reshape layer {layer.name!r}: axis {axis} num_axes "
                         f"{num_axes} do not fit input rank {rank}")
    if dims.count(-1) > 1:
        raise LayerIssue("BAD_PARAM", f"Reshape layer {layer.name!r}: more than one -1")
    out: list[int] = list(x[:start])
    copied = [True] * start
    infer_at = None
    for i, d in enumerate(dims):
        if d == 0:
            if start + i >= rank:
                raise LayerIssue("BAD_PARAM", f"Reshape layer {layer.name!r}: dim {i} is 0 "
                                 "but the input has no such axis")
            out.append(int(x[start + i]))
            copied.append(True)
        elif d == -1:
            infer_at = len(out)
            out.append(-1)
            copied.append(False)
        else:
            out.append(d)
            copied.append(False)
    out += list(x[end:])
    copied += [True] * (rank - end)
    total = int(np.prod(x))
    if infer_at is not None:
        known = int(np.prod([d for i, d in enumerate(out) if i != infer_at]))
        if known == 0 or total % known:
            raise LayerIssue("BAD_SHAPE", f"Reshape layer {layer.name!r}: cannot reshape "
                             f"{tuple(x)} to {out}")
        out[infer_at] = total // known
    if int(np.prod(out)) != total:
        raise LayerIssue("BAD_SHAPE", f"Reshape layer {layer.name!r}: cannot reshape "
                         f"{tuple(x)} ({total} values) to {out}")
    return out, copied


@converter("Reshape")
def convert(layer: Layer, ctx) -> Out:
    """Caffe's axis/num_axes/0/-1 resolved into a full IR shape; the batch dim stays 0 (copied)
    when Caffe keeps it, so the IR graph works for any batch size."""
    bottom = one_bottom(layer)
    x = need_shape(ctx, layer, bottom)
    out, copied = caffe_reshape(layer, x)
    shape = list(out)
    if copied and copied[0] and len(out) > 0:
        shape[0] = 0
    return Out([node(layer, "Reshape", [ctx.ref(bottom)], shape=shape)])
