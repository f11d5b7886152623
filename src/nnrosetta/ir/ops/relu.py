import numpy as np

from nnrosetta.ir.registry import op


@op("Relu", inputs=["X"], outputs=["Y"])
class Relu:
    """Rectified linear unit: ``max(x, 0)``, elementwise.

    Equivalents: Caffe ``ReLU`` (``negative_slope = 0``), ONNX ``Relu``, PyTorch ``nn.ReLU``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [shapes[0]]

    @staticmethod
    def reference(attrs, inputs, weights):
        return [np.maximum(inputs[0], 0).astype(inputs[0].dtype)]
