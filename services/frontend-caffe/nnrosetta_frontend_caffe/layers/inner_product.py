import numpy as np

from nnrosetta_frontend_caffe.layers._base import (
    Layer,
    LayerIssue,
    Out,
    canon_axis,
    converter,
    node,
    one_bottom,
)


@converter("InnerProduct")
def convert(layer: Layer, ctx) -> Out:
    p = layer.param.inner_product_param
    bottom = one_bottom(layer)
    x = ctx.shape(bottom)
    axis = canon_axis(int(p.axis), None if x is None else len(x), layer)
    k = int(np.prod(x[axis:])) if x is not None else None
    o = int(p.num_output)
    if o < 1:
        raise LayerIssue("BAD_PARAM", f"InnerProduct layer {layer.name!r}: num_output not set")
    n = node(layer, "FullyConnected", [ctx.ref(bottom)], axis=axis)
    if p.transpose:   # stored [in, out]
        w = ctx.blob(layer, 0, (k, o), "weight")
        w = w.map(lambda a: np.ascontiguousarray(a.T), (w.shape[1], w.shape[0]))
    else:
        w = ctx.blob(layer, 0, (o, k), "weight")
    weights = {f"{n.name}.weight": w}
    if p.bias_term:
        weights[f"{n.name}.bias"] = ctx.blob(layer, 1, (o,), "bias")
    return Out([n], weights)
