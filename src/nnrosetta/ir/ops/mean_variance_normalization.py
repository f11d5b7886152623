import numpy as np

from nnrosetta.ir.ops._axes import norm_axes
from nnrosetta.ir.registry import Attr, op

EPSILON = 1e-9  # ONNX's function body adds it to the standard deviation


@op("MeanVarianceNormalization", inputs=["X"], outputs=["Y"], attrs={
    "axes": Attr("ints", [0, 2, 3], "the axes the mean and variance are taken over "
                 "(negative: from the end)"),
})
class MeanVarianceNormalization:
    """Normalizes to zero mean and unit variance over ``axes``:
    ``y = (x - mean) / (sqrt(var) + 1e-9)`` with ``mean`` and the biased ``var`` over
    ``axes`` (kept as size-1 dims and broadcast back).

    Equivalents: ONNX ``MeanVarianceNormalization`` (its function adds the same 1e-9 to the
    standard deviation), Caffe ``MVN`` with ``normalize_variance`` and ``eps`` 1e-9 over
    (C,) H, W per sample, PyTorch ``(x - x.mean(axes, keepdim=True)) /
    (x.var(axes, unbiased=False, keepdim=True).sqrt() + 1e-9)``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        norm_axes(attrs["axes"], len(x))
        return [x]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        axes = tuple(norm_axes(attrs["axes"], x.ndim))
        x64 = x.astype(np.float64)
        centered = x64 - x64.mean(axis=axes, keepdims=True)
        std = np.sqrt((centered * centered).mean(axis=axes, keepdims=True))
        return [(centered / (std + EPSILON)).astype(x.dtype)]
