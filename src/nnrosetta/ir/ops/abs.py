import numpy as np

from nnrosetta.ir.registry import op


@op("Abs", inputs=["X"], outputs=["Y"])
class Abs:
    """Absolute value ``|x|``, elementwise.

    Equivalents: Caffe ``AbsVal``, ONNX ``Abs``, PyTorch ``torch.abs``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [shapes[0]]

    @staticmethod
    def reference(attrs, inputs, weights):
        return [np.abs(inputs[0]).astype(inputs[0].dtype)]
