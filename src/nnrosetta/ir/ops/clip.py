import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("Clip", inputs=["X"], outputs=["Y"], attrs={
    "min": Attr("float", float("-inf"), "lower bound (-inf: none)"),
    "max": Attr("float", float("inf"), "upper bound (+inf: none)"),
}, weights={"min": False, "max": False}, weight_inputs=["min", "max"])
class Clip:
    """Clamp to a range: ``y = min(max(x, min), max)``, elementwise (every value is ``max``
    when min > max).

    A bound may instead be a one-element weight ``min`` / ``max`` (usually an input computed
    at run time, as in ONNX since opset 11); it replaces the attribute of the same name.

    Equivalents: Caffe ``Clip`` (``min``, ``max``; ``ReLU6`` in forks is min 0, max 6), ONNX
    ``Clip`` (bounds as attributes before opset 11, inputs since), PyTorch
    ``torch.clamp(x, min, max)`` / ``nn.ReLU6()`` / ``nn.Hardtanh(min, max)``, TensorFlow
    ``tf.clip_by_value`` / ``tf.nn.relu6``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        for role, s in weights.items():
            if int(np.prod(s, dtype=np.int64)) != 1:
                raise ValueError(f"{role} must hold one value, has shape {tuple(s)}")
        return [tuple(shapes[0])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        dt = x.dtype
        lo, hi = (np.asarray(weights[k], dt).reshape(()) if k in weights
                  else np.asarray(attrs[k], dt) for k in ("min", "max"))
        y = np.minimum(np.maximum(x, lo), hi)
        return [np.array(y, dtype=dt, copy=True)]
