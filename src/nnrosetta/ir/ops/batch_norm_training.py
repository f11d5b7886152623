import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("BatchNormTraining", inputs=["X"], outputs=["Y", "running_mean", "running_var"], attrs={
    "epsilon": Attr("float", 1e-5, "added to the variance"),
    "momentum": Attr("float", 0.1, "running-statistics update factor (PyTorch's meaning: "
                     "new = (1 - momentum) * old + momentum * batch)"),
}, weights={"mean": True, "var": True, "scale": False, "bias": False},
    weight_inputs=["scale", "bias", "mean", "var"])
class BatchNormTraining:
    """Batch normalization in training mode: normalizes with the statistics of the batch and
    outputs the updated running statistics.

    With ``batch_mean`` and the biased ``batch_var`` of ``x`` over every axis but 1 (N and
    the spatial axes):
    ``y = (x - batch_mean) / sqrt(batch_var + epsilon) * scale + bias``,
    ``running_mean = (1 - momentum) * mean + momentum * batch_mean``,
    ``running_var = (1 - momentum) * var + momentum * batch_var``.

    Weights are ``[C]`` (``mean`` and ``var`` are the running statistics before the update);
    ``scale`` defaults to 1 and ``bias`` to 0 when absent. ``running_mean`` and
    ``running_var`` are ``[C]``. The op is a pure function: it updates nothing in place.

    Equivalents: ONNX ``BatchNormalization`` with ``training_mode=1`` (opset 14; ONNX's
    ``momentum`` is ``1 - momentum``); PyTorch ``F.batch_norm(..., training=True)`` gives
    the same ``y`` but updates the running variance with the unbiased batch variance.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        if len(x) < 2:
            raise ValueError(f"BatchNormTraining needs (N, C, ...), got {x}")
        for role, s in weights.items():
            if tuple(s) != (x[1],):
                raise ValueError(f"{role} shape {tuple(s)} != ({x[1]},)")
        return [x, (x[1],), (x[1],)]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        BatchNormTraining.infer(attrs, [x.shape], {k: v.shape for k, v in weights.items()})
        axes = (0,) + tuple(range(2, x.ndim))
        bshape = (1, -1) + (1,) * (x.ndim - 2)
        d = x.astype(np.float64)
        bm = d.mean(axis=axes)
        bv = d.var(axis=axes)
        y = (d - bm.reshape(bshape)) / np.sqrt(bv.reshape(bshape) + attrs["epsilon"])
        if "scale" in weights:
            y = y * weights["scale"].astype(np.float64).reshape(bshape)
        if "bias" in weights:
            y = y + weights["bias"].astype(np.float64).reshape(bshape)
        m = float(attrs["momentum"])
        rm = (1.0 - m) * weights["mean"].astype(np.float64) + m * bm
        rv = (1.0 - m) * weights["var"].astype(np.float64) + m * bv
        return [y.astype(x.dtype), rm.astype(x.dtype), rv.astype(x.dtype)]
