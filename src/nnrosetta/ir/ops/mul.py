import numpy as np

from nnrosetta.ir.registry import op


@op("Mul", inputs=["X*"], outputs=["Y"])
class Mul:
    """Elementwise product of all inputs, ``y = x_0 * x_1 * ...``.

    Inputs broadcast as in NumPy (frontends normally give equal shapes).

    Equivalents: Caffe ``Eltwise`` ``PROD``, ONNX ``Mul``, PyTorch ``x * y``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))]

    @staticmethod
    def reference(attrs, inputs, weights):
        y = inputs[0]
        for x in inputs[1:]:
            y = y * x
        return [np.array(y, copy=True)]
