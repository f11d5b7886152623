import numpy as np

from nnrosetta.ir.registry import op


@op("Identity", inputs=["X"], outputs=["Y"])
class Identity:
    """Copies its input unchanged: ``y = x``.

    Equivalents: Caffe ``Split`` with one top (or an in-place no-op), ONNX ``Identity``,
    PyTorch ``nn.Identity``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [shapes[0]]

    @staticmethod
    def reference(attrs, inputs, weights):
        return [np.array(inputs[0], copy=True)]
