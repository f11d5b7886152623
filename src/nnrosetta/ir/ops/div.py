import numpy as np

from nnrosetta.ir.ops._elementwise import as_float, broadcast, result
from nnrosetta.ir.registry import op


@op("Div", inputs=["A", "B"], outputs=["Y"])
class Div:
    """Elementwise true division ``y = a / b`` (IEEE: ``x / 0`` is ``±inf`` or ``nan``); the
    inputs broadcast as in NumPy.

    Equivalents: ONNX ``Div`` (float), PyTorch ``a / b``, TensorFlow ``tf.math.truediv``.
    Caffe has none (``Power`` with ``power: -1`` and ``Eltwise`` ``PROD`` compose it).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [broadcast(shapes)]

    @staticmethod
    def reference(attrs, inputs, weights):
        a, b = as_float(inputs)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = a / b
        return [result(y, y.dtype)]
