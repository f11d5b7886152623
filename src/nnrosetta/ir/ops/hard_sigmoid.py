import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("HardSigmoid", inputs=["X"], outputs=["Y"], attrs={
    "alpha": Attr("float", 0.2, "slope"),
    "beta": Attr("float", 0.5, "offset"),
})
class HardSigmoid:
    """Hard sigmoid: ``y = max(0, min(1, alpha * x + beta))``, elementwise.

    Equivalents: ONNX ``HardSigmoid``; PyTorch ``nn.Hardsigmoid()`` when alpha = 1/6 and
    beta = 1/2, else ``torch.clamp(alpha * x + beta, 0, 1)``; TensorFlow
    ``tf.clip_by_value(alpha * x + beta, 0, 1)`` (Keras 2's ``hard_sigmoid`` is alpha 0.2,
    beta 0.5). Caffe has none.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [tuple(shapes[0])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        dt = x.dtype
        y = np.asarray(attrs["alpha"], dt) * x + np.asarray(attrs["beta"], dt)
        return [np.clip(y, 0, 1).astype(dt)]
