import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("Selu", inputs=["X"], outputs=["Y"], attrs={
    "alpha": Attr("float", 1.67326319217681884765625, "scale of the exponential part"),
    "gamma": Attr("float", 1.05070102214813232421875, "scale of the whole output"),
})
class Selu:
    """Scaled exponential linear unit: ``y = gamma * (x if x > 0 else alpha * (e ** x - 1))``,
    elementwise.

    The defaults are the self-normalizing constants (rounded to float32).

    Equivalents: ONNX ``Selu``; PyTorch ``nn.SELU()`` with the default constants, else
    ``gamma * F.elu(x, alpha)``; TensorFlow ``tf.nn.selu`` (default constants). Caffe has none.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [tuple(shapes[0])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        dt = x.dtype
        neg = np.asarray(attrs["alpha"], dt) * np.expm1(np.minimum(x, 0))
        return [(np.asarray(attrs["gamma"], dt) * np.where(x > 0, x, neg)).astype(dt)]
