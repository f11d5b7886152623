import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("Celu", inputs=["X"], outputs=["Y"], attrs={
    "alpha": Attr("float", 1.0, "scale of the exponential part; not 0"),
})
class Celu:
    """Continuously differentiable ELU:
    ``y = max(0, x) + min(0, alpha * (e ** (x / alpha) - 1))``, elementwise.

    Equivalents: ONNX ``Celu`` (opset 12), PyTorch ``nn.CELU(alpha)``, TensorFlow
    ``tf.maximum(0., x) + tf.minimum(0., alpha * tf.math.expm1(x / alpha))``. Caffe has none.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        if float(attrs["alpha"]) == 0.0:
            raise ValueError("alpha must not be 0")
        return [tuple(shapes[0])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        Celu.infer(attrs, [x.shape], {})
        dt = x.dtype
        a = np.asarray(attrs["alpha"], dt)
        with np.errstate(over="ignore"):
            neg = np.minimum(0, a * np.expm1(x / a))
        return [(np.maximum(x, 0) + neg).astype(dt)]
