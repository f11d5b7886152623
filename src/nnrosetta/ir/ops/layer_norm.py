import numpy as np

from nnrosetta.ir.ops._axes import norm_axis
from nnrosetta.ir.registry import Attr, op


@op("LayerNormalization", inputs=["X"], outputs=["Y", "Mean", "InvStdDev"], attrs={
    "axis": Attr("int", -1, "first normalized dim; dims axis .. rank - 1 are normalized"),
    "epsilon": Attr("float", 1e-5, "added to the variance"),
    "num_outputs": Attr("int", 1, "outputs computed: Y, Mean, InvStdDev (1..3)",
                        choices=(1, 2, 3)),
}, weights={"scale": True, "bias": False}, weight_inputs=["scale", "bias"])
class LayerNormalization:
    """Normalizes over the trailing dims ``axis ..``, then an elementwise affine map:
    ``y = (x - mean) / sqrt(var + epsilon) * scale + bias``.

    ``mean`` and (biased) ``var`` are over dims ``axis .. rank - 1``; ``scale`` (and the
    optional ``bias``, default 0) broadcast against those dims (usually their exact shape).
    With ``num_outputs`` 2 or 3 the node also outputs ``Mean`` and ``InvStdDev``
    (``1 / sqrt(var + epsilon)``), shaped like ``x`` with the normalized dims set to 1.

    Equivalents: ONNX ``LayerNormalization`` (opset 17; outputs ``Y, Mean, InvStdDev`` with
    the default float32 ``stash_type``), PyTorch
    ``nn.LayerNorm(x.shape[axis:], eps)``, TensorFlow ``tf.keras.layers.LayerNormalization``;
    Caffe has none (``MVN`` + ``Scale``).
    """

    @staticmethod
    def num_outputs(attrs):
        return int(attrs["num_outputs"])

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
        stat = x[:a] + (1,) * len(norm)
        return [x, stat, stat][:int(attrs.get("num_outputs", 1))]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        LayerNormalization.infer(attrs, [x.shape], {k: v.shape for k, v in weights.items()})
        axes = tuple(range(attrs["axis"] % x.ndim, x.ndim))
        d = x.astype(np.float64)
        mean = d.mean(axis=axes, keepdims=True)
        d = d - mean
        inv_std = 1.0 / np.sqrt((d * d).mean(axis=axes, keepdims=True) + attrs["epsilon"])
        y = d * inv_std
        y = y * weights["scale"]
        if "bias" in weights:
            y = y + weights["bias"]
        outs = [y.astype(x.dtype), mean.astype(np.float32), inv_std.astype(np.float32)]
        return outs[:int(attrs.get("num_outputs", 1))]
