import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("BatchNorm", inputs=["X"], outputs=["Y"], attrs={
    "epsilon": Attr("float", 1e-5, "added to the variance"),
    "momentum": Attr("float", 0.1, "running-statistics update factor (PyTorch's meaning: "
                     "new = (1 - momentum) * old + momentum * batch); unused at inference"),
}, weights={"mean": True, "var": True, "scale": False, "bias": False},
    weight_inputs=["scale", "bias", "mean", "var"])
class BatchNorm:
    """Batch normalization with running statistics over axis 1:
    ``y = (x - mean) / sqrt(var + epsilon) * scale + bias``.

    Weights are ``[C]``; ``scale`` defaults to 1 and ``bias`` to 0 when absent.

    Equivalents: Caffe ``BatchNorm`` (mean/var divided by its scale factor, then usually a
    ``Scale`` layer), ONNX ``BatchNormalization``, PyTorch ``nn.BatchNorm2d`` in eval mode
    (``momentum`` as PyTorch's; Caffe's ``moving_average_fraction`` is ``1 - momentum``).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        if len(x) < 2:
            raise ValueError(f"BatchNorm needs (N, C, ...), got {x}")
        for role, s in weights.items():
            if tuple(s) != (x[1],):
                raise ValueError(f"{role} shape {tuple(s)} != ({x[1]},)")
        return [x]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        BatchNorm.infer(attrs, [x.shape], {k: v.shape for k, v in weights.items()})
        bshape = (1, -1) + (1,) * (x.ndim - 2)
        a = 1.0 / np.sqrt(weights["var"].astype(np.float64) + attrs["epsilon"])
        if "scale" in weights:
            a = a * weights["scale"]
        b = -weights["mean"] * a
        if "bias" in weights:
            b = b + weights["bias"]
        y = x * a.astype(x.dtype).reshape(bshape) + b.astype(x.dtype).reshape(bshape)
        return [y.astype(x.dtype, copy=False)]
