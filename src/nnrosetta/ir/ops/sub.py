from nnrosetta.ir.ops._elementwise import as_float, broadcast, result
from nnrosetta.ir.registry import op


@op("Sub", inputs=["A", "B"], outputs=["Y"])
class Sub:
    """Elementwise difference ``y = a - b``; the inputs broadcast as in NumPy.

    Equivalents: Caffe ``Eltwise`` ``SUM`` with ``coeff: [1, -1]`` (equal shapes), ONNX
    ``Sub``, PyTorch ``a - b``, TensorFlow ``tf.subtract``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [broadcast(shapes)]

    @staticmethod
    def reference(attrs, inputs, weights):
        a, b = as_float(inputs)
        y = a - b
        return [result(y, y.dtype)]
