from nnrosetta.proto import caffe_pb2
from nnrosetta_frontend_caffe.layers._base import (
    Layer,
    LayerIssue,
    Out,
    converter,
    node,
    one_bottom,
)


@converter("LRN")
def convert(layer: Layer, ctx) -> Out:
    p = layer.param.lrn_param
    if p.local_size % 2 == 0:
        raise LayerIssue("BAD_PARAM", f"LRN layer {layer.name!r}: local_size {p.local_size} "
                         "must be odd")
    x = ctx.ref(one_bottom(layer))
    if p.norm_region == caffe_pb2.LRNParameter.WITHIN_CHANNEL:
        # Caffe's WITHIN_CHANNEL computes (1 + alpha/n^2 * sum)^beta: it ignores k.
        return Out([node(layer, "LRN", [x], size=int(p.local_size), alpha=float(p.alpha),
                         beta=float(p.beta), bias=1.0, region="within")])
    return Out([node(layer, "LRN", [x], size=int(p.local_size), alpha=float(p.alpha),
                     beta=float(p.beta), bias=float(p.k), region="across")])
