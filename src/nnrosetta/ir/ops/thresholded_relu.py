import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("ThresholdedRelu", inputs=["X"], outputs=["Y"], attrs={
    "alpha": Attr("float", 1.0, "threshold"),
})
class ThresholdedRelu:
    """Thresholded rectifier: ``y = x if x > alpha else 0``, elementwise.

    Equivalents: ONNX ``ThresholdedRelu``, PyTorch ``nn.Threshold(alpha, 0.0)``, TensorFlow
    Keras ``ThresholdedReLU(theta=alpha)``. Caffe has none (``Threshold`` outputs 0/1).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [tuple(shapes[0])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        return [np.where(x > np.asarray(attrs["alpha"], x.dtype), x, 0).astype(x.dtype)]
