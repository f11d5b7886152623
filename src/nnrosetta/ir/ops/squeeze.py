import numpy as np

from nnrosetta.ir.ops._axes import norm_axes
from nnrosetta.ir.registry import Attr, op


@op("Squeeze", inputs=["X"], outputs=["Y"], attrs={
    "axes": Attr("ints", [], "dims removed (each of size 1); [] removes every size-1 dim"),
})
class Squeeze:
    """Removes size-1 dims: those in ``axes``, or every size-1 dim when ``axes`` is empty.

    Equivalents: ONNX ``Squeeze`` (``axes`` an input since opset 13), PyTorch
    ``torch.squeeze(x, dim)``, TensorFlow ``tf.squeeze(x, axis)``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        if attrs["axes"]:
            axes = norm_axes(attrs["axes"], len(x))
            bad = [a for a in axes if x[a] != 1]
            if bad:
                raise ValueError(f"cannot squeeze dims {bad} of shape {x}: size is not 1")
        else:
            axes = [i for i, d in enumerate(x) if d == 1]
        return [tuple(d for i, d in enumerate(x) if i not in axes)]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        return [np.array(x.reshape(Squeeze.infer(attrs, [x.shape], {})[0]), copy=True)]


@op("Unsqueeze", inputs=["X"], outputs=["Y"], attrs={
    "axes": Attr("ints", doc="positions of the inserted size-1 dims in the output "
                 "(negative counts from the output's end)"),
})
class Unsqueeze:
    """Inserts size-1 dims so that output dim ``a`` is 1 for each ``a`` in ``axes``.

    ``axes`` index the output (rank ``x.ndim + len(axes)``), in any order.

    Equivalents: ONNX ``Unsqueeze`` (``axes`` an input since opset 13), PyTorch
    ``torch.unsqueeze(x, dim)`` once per axis (ascending), TensorFlow ``tf.expand_dims``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = list(shapes[0])
        if not attrs["axes"]:
            raise ValueError("axes must not be empty")
        rank = len(x) + len(attrs["axes"])
        for a in sorted(norm_axes(attrs["axes"], rank)):
            x.insert(a, 1)
        return [tuple(x)]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        return [np.array(x.reshape(Unsqueeze.infer(attrs, [x.shape], {})[0]), copy=True)]
