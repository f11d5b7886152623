import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("Clip", inputs=["X"], outputs=["Y"], attrs={
    "min": Attr("float", float("-inf"), "lower bound (-inf: none)"),
    "max": Attr("float", float("inf"), "upper bound (+inf: none)"),
})
class Clip:
    """Clamp to a range: ``y = min(max(x, min), max)``, elementwise (every value is ``max``
    when min > max).

    Equivalents: Caffe ``Clip`` (``min``, ``max``; ``ReLU6`` in forks is min 0, max 6), ONNX
    ``Clip`` (bounds as attributes before opset 11, inputs since), PyTorch
    ``torch.clamp(x, min, max)`` / ``nn.ReLU6()`` / ``nn.Hardtanh(min, max)``, TensorFlow
    ``tf.clip_by_value`` / ``tf.nn.relu6``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [tuple(shapes[0])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        dt = x.dtype
        y = np.minimum(np.maximum(x, np.asarray(attrs["min"], dt)), np.asarray(attrs["max"], dt))
        return [np.array(y, dtype=dt, copy=True)]
