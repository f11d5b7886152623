import numpy as np

from nnrosetta.ir.ops._axes import norm_axis
from nnrosetta.ir.registry import Attr, op


@op("LogSoftmax", inputs=["X"], outputs=["Y"], attrs={
    "axis": Attr("int", 1, "the axis normalized over"),
})
class LogSoftmax:
    """Log of the softmax over one axis: ``y = x - log(sum_axis exp(x))`` (computed stably).

    Only ``axis`` is normalized (not the flattened trailing dims of ONNX opset < 13).

    Equivalents: ONNX ``LogSoftmax`` (opset >= 13), PyTorch ``nn.LogSoftmax(dim=axis)``,
    TensorFlow ``tf.nn.log_softmax(x, axis)``; Caffe ``Softmax`` + ``Log``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        norm_axis(attrs["axis"], len(x))
        return [x]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        a = norm_axis(attrs["axis"], x.ndim)
        d = x.astype(np.float64)
        d = d - d.max(axis=a, keepdims=True)
        return [(d - np.log(np.exp(d).sum(axis=a, keepdims=True))).astype(x.dtype)]


@op("Hardmax", inputs=["X"], outputs=["Y"], attrs={
    "axis": Attr("int", 1, "the axis searched"),
})
class Hardmax:
    """One-hot of the maximum along ``axis``: 1 where ``x`` is the first largest value along
    the axis, 0 elsewhere.

    Equivalents: ONNX ``Hardmax`` (opset >= 13), PyTorch
    ``torch.zeros_like(x).scatter_(axis, x.argmax(axis, keepdim=True), 1.0)``, TensorFlow
    ``tf.one_hot(tf.argmax(x, axis), depth, axis=axis)``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        norm_axis(attrs["axis"], len(x))
        return [x]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        a = norm_axis(attrs["axis"], x.ndim)
        y = np.zeros_like(x)
        np.put_along_axis(y, np.argmax(x, axis=a, keepdims=True), 1, axis=a)
        return [y]
