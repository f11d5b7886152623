import numpy as np

from nnrosetta.ir.ops._axes import norm_axes
from nnrosetta.ir.registry import Attr, op


def slice_ranges(attrs, shape) -> list[tuple[int, int, int, int]]:
    """Per sliced axis ``(axis, start, stop, step)`` after ONNX's clamping, in Python slice
    terms except that ``stop`` is -1 (not None) for a negative step that runs through 0."""
    starts, ends = [int(v) for v in attrs["starts"]], [int(v) for v in attrs["ends"]]
    n = len(starts)
    if len(ends) != n:
        raise ValueError(f"starts {starts} and ends {ends} differ in length")
    axes = list(attrs["axes"]) or list(range(n))
    steps = [int(v) for v in attrs["steps"]] or [1] * n
    if len(axes) != n or len(steps) != n:
        raise ValueError(f"starts, ends, axes {list(axes)} and steps {steps} differ in length")
    axes = norm_axes(axes, len(shape))
    out = []
    for a, s, e, st in zip(axes, starts, ends, steps, strict=True):
        if st == 0:
            raise ValueError("steps must not be 0")
        d = int(shape[a])
        s = s + d if s < 0 else s
        e = e + d if e < 0 else e
        if st > 0:
            s, e = min(max(s, 0), d), min(max(e, 0), d)
        else:
            s, e = min(max(s, 0), d - 1), min(max(e, -1), d - 1)
        out.append((a, s, e, st))
    return out


def slice_len(start: int, stop: int, step: int) -> int:
    if step > 0:
        return max(0, -(-(stop - start) // step))
    return max(0, -(-(start - stop) // -step))


@op("Slice", inputs=["X"], outputs=["Y"], attrs={
    "starts": Attr("ints", doc="first index per sliced axis (negative counts from the end)"),
    "ends": Attr("ints", doc="end index (exclusive) per sliced axis; clamped, so INT_MAX / "
                 "INT_MIN mean 'to the end' / 'through index 0'"),
    "axes": Attr("ints", [], "axes sliced; [] = 0 .. len(starts) - 1"),
    "steps": Attr("ints", [], "stride per sliced axis (negative walks backwards, never 0); "
                  "[] = all 1"),
})
class Slice:
    """Strided slice ``x[start:end:step]`` along each axis in ``axes``, with ONNX clamping.

    Negative ``starts``/``ends`` get the dim added; then for a positive step both are clamped
    to ``[0, dim]``, for a negative step ``start`` to ``[0, dim - 1]`` and ``end`` to
    ``[-1, dim - 1]`` (``-1`` meaning before index 0). Axes not listed are kept whole.

    Equivalents: ONNX ``Slice`` (``starts``/``ends``/``axes``/``steps`` inputs since opset
    10), PyTorch / NumPy basic indexing ``x[:, s:e:k]`` (PyTorch needs ``flip`` for negative
    steps), TensorFlow ``tf.strided_slice``; Caffe ``Slice`` is the IR ``Split``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = list(shapes[0])
        for a, s, e, st in slice_ranges(attrs, x):
            x[a] = slice_len(s, e, st)
        return [tuple(x)]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        idx = [slice(None)] * x.ndim
        for a, s, e, st in slice_ranges(attrs, x.shape):
            idx[a] = slice(s, None if e < 0 else e, st)
        return [np.array(x[tuple(idx)], copy=True)]
