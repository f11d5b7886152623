import numpy as np

from nnrosetta.ir.ops.pool import geometry, padded, windows_nd
from nnrosetta.ir.registry import Attr, op


@op("LpPool", inputs=["X"], outputs=["Y"], attrs={
    "p": Attr("int", 2, "the norm's order (>= 1)"),
    "kernel_shape": Attr("ints", [], "one size per spatial axis ([kh, kw] for NCHW); required "
                         "unless global_pooling"),
    "strides": Attr("ints", [], "one per spatial axis; [] = all 1"),
    "pads": Attr("ints", [], "begin per spatial axis, then end per spatial axis ([top, left, "
                 "bottom, right] in 2-D); [] = no padding"),
    "dilations": Attr("ints", [], "one per spatial axis; [] = all 1"),
    "ceil_mode": Attr("bool", False, "round the output size up instead of down"),
    "global_pooling": Attr("bool", False, "pool the whole spatial extent to size 1"),
}, weights={})
class LpPool:
    """Lp-norm pooling: ``y = (sum over the window of |x| ** p) ** (1 / p)`` over
    ``kernel_shape`` windows of an N, C, *spatial input with 1 to 3 spatial axes.

    Window geometry (strides, pads, dilations, ceil_mode and the output size) is exactly
    ``Pool``'s; padding and the region past the padded input hold zeros, which add nothing
    to the sum. ``global_pooling`` pools each whole channel to size 1.

    Equivalents: ONNX ``LpPool`` / ``GlobalLpPool``, PyTorch ``nn.LPPool1d/2d/3d`` (no
    padding or dilation; PyTorch raises to ``p`` without ``abs``, so it equals this for
    even ``p`` or non-negative inputs), TensorFlow none. Caffe has none.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        if int(attrs["p"]) < 1:
            raise ValueError(f"p must be >= 1, got {attrs['p']}")
        x = shapes[0]
        return [(x[0], x[1], *geometry(attrs, x, "LpPool")[5])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        p = int(attrs["p"])
        powered = np.abs(x.astype(np.float64)) ** p
        if attrs["global_pooling"]:
            total = powered.sum(axis=tuple(range(2, x.ndim)), keepdims=True)
        else:
            k, s, d, pb, pe, out = geometry(attrs, x.shape, "LpPool")
            xp, _ = padded(powered, pb, pe, k, s, d, out, 0.0)
            total = windows_nd(xp, k, s, d, out).sum(axis=tuple(range(-len(k), 0)))
        return [np.ascontiguousarray(total ** (1.0 / p), dtype=x.dtype)]
