import numpy as np

from nnrosetta.ir.registry import op


@op("Sigmoid", inputs=["X"], outputs=["Y"])
class Sigmoid:
    """Logistic function ``1 / (1 + exp(-x))``, elementwise.

    Equivalents: Caffe ``Sigmoid``, ONNX ``Sigmoid``, PyTorch ``nn.Sigmoid``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [shapes[0]]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        # numerically stable on both sides
        e = np.exp(-np.abs(x))
        return [np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype)]
