import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("GroupNormalization", inputs=["X"], outputs=["Y"], attrs={
    "num_groups": Attr("int", doc="channel groups normalized separately (divides C)"),
    "epsilon": Attr("float", 1e-5, "added to the variance"),
}, weights={"scale": True, "bias": True}, weight_inputs=["scale", "bias"])
class GroupNormalization:
    """Normalizes each group of ``C / num_groups`` channels of each sample over the group's
    channels and spatial dims, then a per-channel affine map:
    ``y = (x - mean_g) / sqrt(var_g + epsilon) * scale[c] + bias[c]``.

    The input is ``(N, C, ...)``; ``scale`` and ``bias`` are ``[C]`` (per channel).

    Equivalents: ONNX ``GroupNormalization`` (opset 21 form: per-channel scale and bias),
    PyTorch ``nn.GroupNorm(num_groups, C, eps)``, TensorFlow
    ``tf.keras.layers.GroupNormalization``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        g = attrs["num_groups"]
        if len(x) < 2:
            raise ValueError(f"GroupNormalization needs (N, C, ...), got {x}")
        if g < 1 or x[1] % g:
            raise ValueError(f"num_groups {g} does not divide the {x[1]} channels")
        for role, s in weights.items():
            if tuple(s) != (x[1],):
                raise ValueError(f"{role} shape {tuple(s)} != ({x[1]},)")
        return [x]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        GroupNormalization.infer(attrs, [x.shape], {k: v.shape for k, v in weights.items()})
        n, g = x.shape[0], attrs["num_groups"]
        d = x.astype(np.float64).reshape(n, g, -1)
        d = d - d.mean(axis=2, keepdims=True)
        y = (d / np.sqrt((d * d).mean(axis=2, keepdims=True) + attrs["epsilon"]))
        bshape = (1, -1) + (1,) * (x.ndim - 2)
        y = y.reshape(x.shape) * weights["scale"].reshape(bshape) + weights["bias"].reshape(bshape)
        return [y.astype(x.dtype)]
