"""The Reduce* family and ArgMax / ArgMin (one schema each, shared code)."""

import numpy as np

from nnrosetta.ir.ops._axes import norm_axes, norm_axis
from nnrosetta.ir.registry import Attr, op

_REDUCE_ATTRS = {
    "axes": Attr("ints", [], "axes reduced; [] = all axes (or none with noop_with_empty_axes)"),
    "keepdims": Attr("bool", True, "keep reduced axes as size-1 dims"),
    "noop_with_empty_axes": Attr("bool", False, "empty axes make the op an identity"),
}


def reduce_axes(attrs, rank: int) -> list[int]:
    """The normalized reduced axes (empty for the no-op case)."""
    if not attrs["axes"]:
        return [] if attrs["noop_with_empty_axes"] else list(range(rank))
    return sorted(norm_axes(attrs["axes"], rank))


def _infer(attrs, shapes, weights):
    x = tuple(shapes[0])
    axes = reduce_axes(attrs, len(x))
    if attrs["keepdims"]:
        return [tuple(1 if i in axes else d for i, d in enumerate(x))]
    return [tuple(d for i, d in enumerate(x) if i not in axes)]


def _logsumexp(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m


# op -> f(x as float64, axes tuple) with keepdims=True
_FUNCS = {
    "ReduceSum": lambda x, a: np.sum(x, axis=a, keepdims=True),
    "ReduceMean": lambda x, a: np.mean(x, axis=a, keepdims=True),
    "ReduceMax": lambda x, a: np.max(x, axis=a, keepdims=True),
    "ReduceMin": lambda x, a: np.min(x, axis=a, keepdims=True),
    "ReduceProd": lambda x, a: np.prod(x, axis=a, keepdims=True),
    "ReduceL1": lambda x, a: np.sum(np.abs(x), axis=a, keepdims=True),
    "ReduceL2": lambda x, a: np.sqrt(np.sum(x * x, axis=a, keepdims=True)),
    "ReduceLogSum": lambda x, a: np.log(np.sum(x, axis=a, keepdims=True)),
    "ReduceLogSumExp": _logsumexp,
    "ReduceSumSquare": lambda x, a: np.sum(x * x, axis=a, keepdims=True),
}

_DOCS = {
    "ReduceSum": ("sum", "sum(x)", "torch.sum(x, dim, keepdim)", "tf.reduce_sum",
                  "``Reduction`` (SUM, all trailing axes)"),
    "ReduceMean": ("mean", "mean(x)", "torch.mean(x, dim, keepdim)", "tf.reduce_mean",
                   "``Reduction`` (MEAN)"),
    "ReduceMax": ("maximum", "max(x)", "torch.amax(x, dim, keepdim)", "tf.reduce_max",
                  None),
    "ReduceMin": ("minimum", "min(x)", "torch.amin(x, dim, keepdim)", "tf.reduce_min",
                  None),
    "ReduceProd": ("product", "prod(x)", "torch.prod(x, dim, keepdim)", "tf.reduce_prod",
                   None),
    "ReduceL1": ("L1 norm", "sum(|x|)", "torch.linalg.vector_norm(x, 1, dim, keepdim)",
                 "tf.norm(ord=1)", "``Reduction`` (ASUM)"),
    "ReduceL2": ("L2 norm", "sqrt(sum(x^2))",
                 "torch.linalg.vector_norm(x, 2, dim, keepdim)", "tf.norm", None),
    "ReduceLogSum": ("log of the sum", "log(sum(x))", "torch.log(torch.sum(x, dim))",
                     "tf.math.log(tf.reduce_sum)", None),
    "ReduceLogSumExp": ("log-sum-exp", "log(sum(exp(x)))",
                        "torch.logsumexp(x, dim, keepdim)", "tf.reduce_logsumexp", None),
    "ReduceSumSquare": ("sum of squares", "sum(x^2)", "torch.sum(x * x, dim, keepdim)",
                        "tf.reduce_sum(tf.square(x))", "``Reduction`` (SUMSQ)"),
}


def _make_reduce(name: str) -> None:
    what, formula, torch_eq, tf_eq, caffe = _DOCS[name]
    fn = _FUNCS[name]
    caffe_line = (f"Caffe {caffe}, " if caffe else "")

    def reference(attrs, inputs, weights):
        x = inputs[0]
        axes = reduce_axes(attrs, x.ndim)
        if not axes:
            return [np.array(x, copy=True)]
        with np.errstate(divide="ignore", invalid="ignore"):
            y = fn(x.astype(np.float64), tuple(axes))
        shape = _infer(attrs, [x.shape], {})[0]
        return [np.asarray(y, dtype=x.dtype).reshape(shape)]

    doc = f"""The {what} of ``x`` over ``axes``: ``y = {formula}``.

    ``axes`` empty reduces every axis, unless ``noop_with_empty_axes`` (then ``y = x``);
    ``keepdims`` keeps the reduced axes as size-1 dims.

    Equivalents: ONNX ``{name}`` (opset 18 form; ``axes`` an input), {caffe_line}PyTorch
    ``{torch_eq}``, TensorFlow ``{tf_eq}``.
    """
    cls = type(name, (), {"__doc__": doc, "infer": staticmethod(_infer),
                          "reference": staticmethod(reference)})
    op(name, inputs=["X"], outputs=["Y"], attrs=dict(_REDUCE_ATTRS))(cls)


for _name in _FUNCS:
    _make_reduce(_name)


_ARG_ATTRS = {
    "axis": Attr("int", 0, "the axis searched"),
    "keepdims": Attr("bool", True, "keep the axis as a size-1 dim"),
    "select_last_index": Attr("bool", False, "on ties, the last index (else the first)"),
}


def _arg_infer(attrs, shapes, weights):
    x = tuple(shapes[0])
    a = norm_axis(attrs["axis"], len(x))
    if attrs["keepdims"]:
        return [x[:a] + (1,) + x[a + 1:]]
    return [x[:a] + x[a + 1:]]


def _arg_reference(fn):
    def reference(attrs, inputs, weights):
        x = inputs[0]
        a = norm_axis(attrs["axis"], x.ndim)
        if attrs["select_last_index"]:
            y = x.shape[a] - 1 - fn(np.flip(x, axis=a), axis=a, keepdims=True)
        else:
            y = fn(x, axis=a, keepdims=True)
        if not attrs["keepdims"]:
            y = np.squeeze(y, axis=a)
        return [np.asarray(y, dtype=np.int64)]
    return reference


@op("ArgMax", inputs=["X"], outputs=["Y"], attrs=dict(_ARG_ATTRS))
class ArgMax:
    """Index (int64) of the largest element along ``axis``.

    Ties give the first index, or the last with ``select_last_index``; ``keepdims`` keeps the
    axis as a size-1 dim. The output is int64 (the one IR op output that is not float).

    Equivalents: ONNX ``ArgMax``, PyTorch ``torch.argmax(x, dim, keepdim)`` (first index on
    ties), TensorFlow ``tf.argmax``, Caffe ``ArgMax`` (``axis`` given, ``top_k = 1``).
    """

    infer = staticmethod(_arg_infer)
    reference = staticmethod(_arg_reference(np.argmax))


@op("ArgMin", inputs=["X"], outputs=["Y"], attrs=dict(_ARG_ATTRS))
class ArgMin:
    """Index (int64) of the smallest element along ``axis``.

    Ties give the first index, or the last with ``select_last_index``; ``keepdims`` keeps the
    axis as a size-1 dim. The output is int64.

    Equivalents: ONNX ``ArgMin``, PyTorch ``torch.argmin(x, dim, keepdim)``, TensorFlow
    ``tf.argmin``.
    """

    infer = staticmethod(_arg_infer)
    reference = staticmethod(_arg_reference(np.argmin))
