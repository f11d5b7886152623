import numpy as np

from nnrosetta.ir.ops._elementwise import as_float, broadcast, result
from nnrosetta.ir.registry import Attr, op


@op("Mod", inputs=["A", "B"], outputs=["Y"], attrs={
    "fmod": Attr("bool", False, "false: the result takes the divisor's sign (floor "
                 "division); true: the dividend's (truncating division, C fmod)"),
})
class Mod:
    """Elementwise remainder; the inputs broadcast as in NumPy. ``fmod = False``:
    ``a - floor(a / b) * b`` (the sign of ``b``, Python's ``%``); ``fmod = True``:
    ``a - trunc(a / b) * b`` (the sign of ``a``, C ``fmod``). A zero divisor or an infinite
    dividend gives NaN; an infinite divisor gives ``a`` when the signs agree (``fmod`` or
    same signs) and ``b`` otherwise.

    Equivalents: ONNX ``Mod`` (``fmod`` attribute; floats need ``fmod=1`` before opset 28),
    PyTorch ``torch.remainder`` / ``torch.fmod``, NumPy ``np.mod`` / ``np.fmod``,
    TensorFlow ``tf.math.floormod`` / ``tf.math.truncatemod``. Caffe has none.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [broadcast(shapes)]

    @staticmethod
    def reference(attrs, inputs, weights):
        a, b = as_float(inputs)
        with np.errstate(invalid="ignore", divide="ignore"):
            y = np.fmod(a, b) if attrs["fmod"] else np.mod(a, b)
        return [result(y, np.result_type(a, b))]
