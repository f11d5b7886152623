import numpy as np

from nnrosetta.ir.ops._axes import norm_axis
from nnrosetta.ir.registry import Attr, op


@op("LpNormalization", inputs=["X"], outputs=["Y"], attrs={
    "axis": Attr("int", -1, "the axis normalized along (negative: from the end)"),
    "p": Attr("int", 2, "the norm: 1 or 2", choices=(1, 2)),
})
class LpNormalization:
    """Divides each vector along ``axis`` by its Lp norm:
    ``y = x / (sum over axis of |x| ** p) ** (1 / p)``; a vector whose norm is zero gives
    zeros.

    Equivalents: ONNX ``LpNormalization``, PyTorch ``F.normalize(x, p, dim=axis)`` (which
    divides by ``max(norm, eps)`` with ``eps = 1e-12``: the same but for norms below
    1e-12), TensorFlow ``tf.math.l2_normalize`` (p = 2). Caffe has none (SSD's ``Normalize``
    layer adds a scale).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        norm_axis(int(attrs["axis"]), len(x))
        return [x]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        axis = norm_axis(int(attrs["axis"]), x.ndim)
        x64 = x.astype(np.float64)
        p = int(attrs["p"])
        norm = (np.abs(x64) ** p).sum(axis=axis, keepdims=True) ** (1.0 / p)
        y = np.divide(x64, norm, out=np.zeros_like(x64), where=norm != 0)
        return [y.astype(x.dtype)]
