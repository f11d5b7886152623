import numpy as np

from nnrosetta.ir.ops._axes import norm_axis
from nnrosetta.ir.registry import Attr, op


@op("Gather", inputs=["X", "Indices"], outputs=["Y"], attrs={
    "axis": Attr("int", 0, "the axis indexed"),
})
class Gather:
    """Picks entries of ``x`` along ``axis`` by an integer index tensor:
    ``y[i..., j..., k...] = x[i..., indices[j...], k...]``.

    ``y.shape = x.shape[:axis] + indices.shape + x.shape[axis + 1:]`` (a 0-D index removes
    the axis). ``indices`` (int64, normally a ``Constant`` node) may be negative, counting from
    the end; out-of-range indices are an error.

    Equivalents: ONNX ``Gather``, NumPy ``np.take(x, indices, axis)``, PyTorch
    ``torch.index_select`` (1-D indices) or ``x[:, indices]``, TensorFlow
    ``tf.gather(x, indices, axis=axis)``; Caffe ``Embed`` is the ``axis = 0`` case.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x, idx = tuple(shapes[0]), tuple(shapes[1])
        if not x:
            raise ValueError("Gather needs an input of rank >= 1")
        a = norm_axis(attrs["axis"], len(x))
        return [x[:a] + idx + x[a + 1:]]

    @staticmethod
    def reference(attrs, inputs, weights):
        x, idx = inputs
        Gather.infer(attrs, [x.shape, idx.shape], {})
        if idx.dtype.kind not in "iu":
            raise ValueError(f"indices must be integers, got {idx.dtype}")
        a = attrs["axis"] % x.ndim
        d = x.shape[a]
        if idx.size and (idx.min() < -d or idx.max() >= d):
            raise ValueError(f"indices out of range [-{d}, {d - 1}]")
        return [np.take(x, np.where(idx < 0, idx + d, idx), axis=a)]
