import numpy as np

from nnrosetta.ir.ops._elementwise import as_float, broadcast, result
from nnrosetta.ir.registry import op


@op("Mean", inputs=["X*"], outputs=["Y"])
class Mean:
    """Elementwise mean of all inputs, ``y = (x_0 + x_1 + ... + x_{n-1}) / n``; the inputs
    broadcast as in NumPy.

    Equivalents: Caffe ``Eltwise`` ``SUM`` with every ``coeff`` 1/n, ONNX ``Mean``, PyTorch
    ``(x_0 + x_1 + ...) / n``, TensorFlow ``tf.add_n(xs) / n`` (equal shapes).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [broadcast(shapes)]

    @staticmethod
    def reference(attrs, inputs, weights):
        xs = as_float(inputs)
        y = xs[0]
        for x in xs[1:]:
            y = y + x
        if len(xs) > 1:
            y = y / np.asarray(len(xs), y.dtype)
        return [result(y, y.dtype)]
