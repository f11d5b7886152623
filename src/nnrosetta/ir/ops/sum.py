from nnrosetta.ir.ops._elementwise import as_float, broadcast, result
from nnrosetta.ir.registry import op


@op("Sum", inputs=["X*"], outputs=["Y"])
class Sum:
    """Elementwise sum of all inputs, ``y = x_0 + x_1 + ...``; the inputs broadcast as in
    NumPy. (``Add`` is the same with optional coefficients.)

    Equivalents: Caffe ``Eltwise`` ``SUM``, ONNX ``Sum``, PyTorch ``x_0 + x_1 + ...``,
    TensorFlow ``tf.add_n`` (equal shapes) / ``tf.add``.
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
        return [result(y, y.dtype)]
