import numpy as np

from nnrosetta.ir.registry import op


@op("Max", inputs=["X*"], outputs=["Y"])
class Max:
    """Elementwise maximum of all inputs, ``y = max(x_0, x_1, ...)``.

    Inputs broadcast as in NumPy (frontends normally give equal shapes).

    Equivalents: Caffe ``Eltwise`` ``MAX``, ONNX ``Max``, PyTorch ``torch.maximum``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))]

    @staticmethod
    def reference(attrs, inputs, weights):
        y = inputs[0]
        for x in inputs[1:]:
            y = np.maximum(y, x)
        return [np.array(y, copy=True)]
