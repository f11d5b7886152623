import math

import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("Flatten", inputs=["X"], outputs=["Y"], attrs={
    "axis": Attr("int", 1, "first dim flattened"),
    "end_axis": Attr("int", -1, "last dim flattened (inclusive)"),
})
class Flatten:
    """Merges dims ``axis .. end_axis`` (inclusive, row-major) into one.

    Equivalents: Caffe ``Flatten`` (``axis``, ``end_axis``), PyTorch
    ``torch.flatten(x, start_dim=axis, end_dim=end_axis)``; ONNX ``Flatten`` is the case
    ``end_axis = -1`` with ``axis = 1`` (ONNX also flattens the leading dims into one).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        nd = len(x)
        a, e = attrs["axis"], attrs["end_axis"]
        if not (-nd <= a < nd and -nd <= e < nd) or a % nd > e % nd:
            raise ValueError(f"cannot flatten dims {a}..{e} of shape {x}")
        a, e = a % nd, e % nd
        return [x[:a] + (math.prod(x[a:e + 1]),) + x[e + 1:]]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        return [np.array(x.reshape(Flatten.infer(attrs, [x.shape], {})[0]), copy=True)]
