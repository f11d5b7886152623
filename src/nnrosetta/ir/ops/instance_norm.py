import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("InstanceNormalization", inputs=["X"], outputs=["Y"], attrs={
    "epsilon": Attr("float", 1e-5, "added to the variance"),
}, weights={"scale": True, "bias": True}, weight_inputs=["scale", "bias"])
class InstanceNormalization:
    """Normalizes each (sample, channel) over its spatial dims, then a per-channel affine map:
    ``y = (x - mean) / sqrt(var + epsilon) * scale[c] + bias[c]``.

    ``mean`` and (biased) ``var`` are taken over dims 2.. of each ``x[n, c]``; the input is
    ``(N, C, D1, ...)`` with at least one spatial dim; ``scale`` and ``bias`` are ``[C]``.

    Equivalents: ONNX ``InstanceNormalization``, PyTorch
    ``nn.InstanceNorm2d(C, eps, affine=True)`` (``1d``/``3d`` by rank), TensorFlow Addons
    ``InstanceNormalization``; Caffe has none (``MVN`` + ``Scale``).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        if len(x) < 3:
            raise ValueError(f"InstanceNormalization needs (N, C, D1, ...), got {x}")
        for role, s in weights.items():
            if tuple(s) != (x[1],):
                raise ValueError(f"{role} shape {tuple(s)} != ({x[1]},)")
        return [x]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        InstanceNormalization.infer(attrs, [x.shape],
                                    {k: v.shape for k, v in weights.items()})
        axes = tuple(range(2, x.ndim))
        d = x.astype(np.float64)
        d = d - d.mean(axis=axes, keepdims=True)
        y = d / np.sqrt((d * d).mean(axis=axes, keepdims=True) + attrs["epsilon"])
        bshape = (1, -1) + (1,) * (x.ndim - 2)
        y = y * weights["scale"].reshape(bshape) + weights["bias"].reshape(bshape)
        return [y.astype(x.dtype)]
