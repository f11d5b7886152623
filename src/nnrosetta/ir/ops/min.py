import numpy as np

from nnrosetta.ir.ops._elementwise import as_float, broadcast, result
from nnrosetta.ir.registry import op


@op("Min", inputs=["X*"], outputs=["Y"])
class Min:
    """Elementwise minimum of all inputs, ``y = min(x_0, x_1, ...)`` (``nan`` if any is);
    the inputs broadcast as in NumPy.

    Equivalents: ONNX ``Min``, PyTorch ``torch.minimum`` (chained), TensorFlow
    ``tf.minimum``. Caffe has none (``Eltwise`` has ``MAX`` only).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [broadcast(shapes)]

    @staticmethod
    def reference(attrs, inputs, weights):
        xs = as_float(inputs)
        y = xs[0]
        for x in xs[1:]:
            y = np.minimum(y, x)
        return [result(y, y.dtype)]
