import numpy as np

from nnrosetta.ir.ops._axes import norm_axis
from nnrosetta.ir.registry import Attr, op


@op("RMSNormalization", inputs=["X", "Scale"], outputs=["Y"], attrs={
    "axis": Attr("int", -1, "first normalized dim; dims axis .. rank - 1 are normalized"),
    "epsilon": Attr("float", 1e-5, "added to the mean square"),
    "stash_type": Attr("int", 1, "ONNX precision of the statistics (1: float32); the IR "
                       "computes in float32 or better whatever it says"),
})
class RMSNormalization:
    """Root-mean-square normalization over the trailing dims ``axis ..``, then a scale:
    ``y = x / sqrt(mean(x^2) + epsilon) * scale``.

    The mean is over dims ``axis .. rank - 1`` (no mean is subtracted, no bias); ``Scale`` is
    an input (a graph input or a ``Constant``) that broadcasts against those dims (usually
    their exact shape).

    Equivalents: ONNX ``RMSNormalization`` (opset 23), PyTorch ``nn.RMSNorm(x.shape[axis:],
    eps)`` / ``F.rms_norm(x, x.shape[axis:], scale, eps)``, TensorFlow/Keras
    ``keras.layers.RMSNormalization``; Caffe has none.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x, s = tuple(shapes[0]), tuple(shapes[1])
        a = norm_axis(attrs["axis"], len(x))
        norm = x[a:]
        pad = (1,) * (len(norm) - len(s)) + s
        if len(s) > len(norm) or any(w not in (1, d) for w, d in zip(pad, norm, strict=True)):
            raise ValueError(f"Scale shape {s} does not broadcast to the normalized dims {norm}")
        return [x]

    @staticmethod
    def reference(attrs, inputs, weights):
        x, scale = inputs
        RMSNormalization.infer(attrs, [x.shape, scale.shape], {})
        axes = tuple(range(attrs["axis"] % x.ndim, x.ndim))
        d = x.astype(np.float64)
        y = d / np.sqrt((d * d).mean(axis=axes, keepdims=True) + attrs["epsilon"])
        return [(y * scale.astype(np.float64)).astype(x.dtype)]
