import numpy as np

from nnrosetta.ir.ops._axes import norm_axis
from nnrosetta.ir.registry import Attr, op


@op("LayerNormalization", inputs=["X"], outputs=["Y"], attrs={
    "axis": Attr("int", -1, "first normalized dim; dims axis .. rank - 1 are normalized"),
    "epsilon": Attr("float", 1e-5, "added to the variance"),
}, weights={"scale": True, "bias": False})
class LayerNormalization:
    """Normalizes over the trailing dims ``axis ..``, then an elementwise affine map:
    ``y = (x - mean) / sqrt(var + epsilon) * scale + bias``.

    ``mean`` and (biased) ``var`` are over dims ``axis .. rank - 1``; ``scale`` (and the
    optional ``bias``, default 0) broadcast against those dims (usually their exact shape).

    Equivalents: ONNX ``LayerNormalization`` (opset 17; only the output ``Y``), PyTorch
    ``nn.LayerNorm(x.shape[axis:], eps)``, TensorFlow ``tf.keras.layers.LayerNormalization``;
    Caffe has none (``MVN`` + ``Scale``).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        a = norm_axis(attrs["axis"], len(x))
        norm = x[a:]
        for role, s in weights.items():
            s = tuple(s)
            pad = (1,) * (len(norm) - len(s)) + s
            if len(s) > len(norm) or any(w not in (1, d) for w, d in zip(pad, norm, strict=True)):
                raise ValueError(f"{role} shape {s} does not broadcast to the normalized "
                                 f"dims {norm}")
        return [x]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        LayerNormalization.infer(attrs, [x.shape], {k: v.shape for k, v in weights.items()})
        axes = tuple(range(attrs["axis"] % x.ndim, x.ndim))
        d = x.astype(np.float64)
        d = d - d.mean(axis=axes, keepdims=True)
        y = d / np.sqrt((d * d).mean(axis=axes, keepdims=True) + attrs["epsilon"])
        y = y * weights["scale"]
        if "bias" in weights:
            y = y + weights["bias"]
        return [y.astype(x.dtype)]
