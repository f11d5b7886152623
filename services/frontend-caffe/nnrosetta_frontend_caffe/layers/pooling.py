from nnrosetta.proto import caffe_pb2
from nnrosetta_frontend_caffe.layers._base import (
    Layer,
    Out,
    Unsupported,
    converter,
    need_shape,
    node,
    one_bottom,
)
from nnrosetta_frontend_caffe.layers._geometry import pool_geometry

_P = caffe_pb2.PoolingParameter


@converter("Pooling")
def convert(layer: Layer, ctx) -> Out:
    p = layer.param.pooling_param
    bottom = one_bottom(layer)
    if p.pool == _P.STOCHASTIC:
        raise Unsupported(f"Pooling layer {layer.name!r}: STOCHASTIC pooling")
    mode = "max" if p.pool == _P.MAX else "avg"
    x = ctx.ref(bottom)
    if p.global_pooling:
        s = need_shape(ctx, layer, bottom)
        return Out([node(layer, "Pool", [x], mode=mode, kernel_shape=[int(s[2]), int(s[3])],
                         strides=[1, 1], pads=[0, 0, 0, 0], global_pooling=True)])
    geo = pool_geometry(p, layer)
    # Caffe rounds the output size up (the last window starts inside input + pad), unless
    # round_mode is FLOOR; its average divides by the window clipped to the padded input.
    return Out([node(layer, "Pool", [x], mode=mode, ceil_mode=p.round_mode == _P.CEIL,
                     count_include_pad=True, **geo)])
