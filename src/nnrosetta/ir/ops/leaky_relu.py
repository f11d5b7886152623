import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("LeakyRelu", inputs=["X"], outputs=["Y"], attrs={
    "alpha": Attr("float", 0.01, "slope for x < 0"),
})
class LeakyRelu:
    """Leaky rectifier: ``x if x >= 0 else alpha * x``, elementwise.

    Equivalents: Caffe ``ReLU`` with ``negative_slope``, ONNX ``LeakyRelu``, PyTorch
    ``nn.LeakyReLU(alpha)``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [shapes[0]]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        return [np.where(x >= 0, x, x * np.asarray(attrs["alpha"], x.dtype)).astype(x.dtype)]
