import numpy as np

from nnrosetta.ir.ops._elementwise import as_float, broadcast, result
from nnrosetta.ir.registry import op


@op("Pow", inputs=["A", "B"], outputs=["Y"])
class Pow:
    """Elementwise power ``y = a ** b`` (``nan`` for a negative base with a non-integer
    exponent); the inputs broadcast as in NumPy. The result has A's dtype (an integer
    exponent, e.g. an int64 constant, is applied as float).

    Equivalents: Caffe ``Power`` (constant exponent only: ``(shift + scale * x) ** power``),
    ONNX ``Pow``, PyTorch ``a ** b`` / ``torch.pow``, TensorFlow ``tf.pow``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [broadcast(shapes)]

    @staticmethod
    def reference(attrs, inputs, weights):
        a, b = as_float(inputs)
        with np.errstate(all="ignore"):
            y = np.power(a, b)
        return [result(y, a.dtype)]
