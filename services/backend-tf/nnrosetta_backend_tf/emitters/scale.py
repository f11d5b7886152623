"""Scale (Caffe's per-channel affine map) -> the ``Scale`` layer model.py defines (a multiply
and an add with trainable parameters laid out for the channels-last input). A Scale right
after a BatchNorm is folded into the BatchNormalization layer instead (batch_norm.py)."""

import numpy as np

from nnrosetta_backend_tf.emitters import emitter


def keras_param(value: np.ndarray, axis: int, in_shape, layout) -> np.ndarray:
    """A parameter aligned to x's dims ``axis..`` -> its shape broadcasting against the Keras
    value (the batch axis dropped)."""
    rank = len(in_shape)
    full = value.reshape((1,) * axis + value.shape + (1,) * (rank - axis - value.ndim))
    out = np.transpose(full, layout.perm)
    if layout.order is not None and out.shape[-1] == layout.order.size:
        out = np.take(out, layout.order, axis=-1)
    out = out[0]
    while out.ndim > 1 and out.shape[0] == 1:
        out = out[0]
    return np.ascontiguousarray(out, dtype=np.float32)


@emitter("Scale")
def emit(e) -> None:
    """Scale -> model.py's ``Scale`` layer (folded into a preceding BatchNorm when it can be)."""
    lay = e.layout()
    axis = int(e.attr("axis", 1)) % e.rank()
    shape = e.in_shape()
    scale = keras_param(e.weight("scale"), axis, shape, lay)
    bias = e.weight("bias")
    weights = [scale]
    if bias is not None:
        weights.append(keras_param(bias, axis, shape, lay))
    e.helper("Scale")
    layer = e.layer("Scale", tuple(int(d) for d in scale.shape), use_bias=bias is not None,
                    weights=weights)
    e.assign(f"{layer}({e.x})", lay)
