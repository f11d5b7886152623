import numpy as np

from nnrosetta.ir.registry import op


@op("Tanh", inputs=["X"], outputs=["Y"])
class Tanh:
    """Hyperbolic tangent ``tanh(x)``, elementwise.

    Equivalents: Caffe ``TanH``, ONNX ``Tanh``, PyTorch ``nn.Tanh``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [shapes[0]]

    @staticmethod
    def reference(attrs, inputs, weights):
        return [np.tanh(inputs[0]).astype(inputs[0].dtype)]
