import numpy as np

from nnrosetta.ir.registry import Attr, op

DTYPES = ("float32", "bool", "int64", "int32")


@op("Cast", inputs=["X"], outputs=["Y"], attrs={
    "to": Attr("str", doc="the element type of the output", choices=DTYPES),
})
class Cast:
    """Converts the element type: ``y = x`` as ``to`` (e.g. a bool mask made float32, 0/1).

    To bool: true where ``x`` is non-zero. Float to integer truncates toward zero (NaN and
    out-of-range values are undefined, as in ONNX). The IR computes in float32; ``Cast``
    turns the bool outputs of comparisons and logic ops (and integer constants) into
    numbers, and numbers into conditions.

    Equivalents: ONNX ``Cast`` (``to`` a TensorProto type), PyTorch ``x.to(torch.float32)``,
    NumPy ``x.astype``, TensorFlow ``tf.cast`` (Caffe has none).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [tuple(shapes[0])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = np.asarray(inputs[0])
        with np.errstate(invalid="ignore"):
            return [x.astype(np.dtype(attrs["to"]), copy=True)]
