"""Comparison and logic ops, registered from tables: Less, LessOrEqual, Greater,
GreaterOrEqual, Equal (broadcasting comparisons), Not, And, Or, Xor (boolean logic), Where
(select), IsNaN and IsInf (tests of special values).

Their outputs are ``bool`` tensors (Where: the dtype of ``x`` and ``y``), the IR's one kind of
value besides float32 activations and integer constants. Logic ops read any non-zero input as
true; bool constants feed them (frontends give ``Constant`` nodes of dtype bool).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnrosetta.ir.ops._elementwise import as_float, broadcast
from nnrosetta.ir.registry import Attr, op


def _bool(x: np.ndarray) -> np.ndarray:
    return x if x.dtype == np.bool_ else x.astype(np.bool_)


def _operands(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Comparison operands: equal dtypes as they are; bool against a number as 0/1; mixed
    numbers in the floating dtype (IR arithmetic is float)."""
    if a.dtype == b.dtype:
        return a, b
    fa, fb = as_float([a, b])
    return fa, fb


# name -> (NumPy function, formula, ONNX/PyTorch/TensorFlow equivalents)
COMPARISONS: dict[str, tuple[Callable[..., np.ndarray], str, str, str]] = {
    "Less": (np.less, "a < b", "a < b", "tf.math.less"),
    "LessOrEqual": (np.less_equal, "a <= b", "a <= b", "tf.math.less_equal"),
    "Greater": (np.greater, "a > b", "a > b", "tf.math.greater"),
    "GreaterOrEqual": (np.greater_equal, "a >= b", "a >= b", "tf.math.greater_equal"),
    "Equal": (np.equal, "a == b", "a == b", "tf.math.equal"),
}

# name -> (NumPy function, formula, PyTorch, TensorFlow)
LOGIC: dict[str, tuple[Callable[..., np.ndarray], str, str, str]] = {
    "And": (np.logical_and, "a and b", "a & b", "tf.math.logical_and"),
    "Or": (np.logical_or, "a or b", "a | b", "tf.math.logical_or"),
    "Xor": (np.logical_xor, "a xor b", "a ^ b", "tf.math.logical_xor"),
}


def _binary_infer(attrs, shapes, weights):
    return [broadcast(shapes)]


def _unary_infer(attrs, shapes, weights):
    return [tuple(shapes[0])]


def _register_comparison(name: str) -> None:
    fn, formula, torch_eq, tf_eq = COMPARISONS[name]

    def reference(attrs, inputs, weights):
        a, b = _operands(*inputs)
        return [np.asarray(fn(a, b), dtype=np.bool_)]

    nan = ("" if name != "Equal" else " (``nan == nan`` is false)")
    doc = f"""Elementwise comparison ``y = {formula}`` (bool output){nan}; the inputs
    broadcast as in NumPy.

    Inputs of different dtypes compare as numbers (an integer constant against a float
    activation compares in float).

    Equivalents: ONNX ``{name}``, PyTorch ``{torch_eq}``, TensorFlow ``{tf_eq}`` (Caffe has
    none).
    """
    cls = type(name, (), {"__doc__": doc, "infer": staticmethod(_binary_infer),
                          "reference": staticmethod(reference)})
    op(name, inputs=["A", "B"], outputs=["Y"])(cls)


def _register_logic(name: str) -> None:
    fn, formula, torch_eq, tf_eq = LOGIC[name]

    def reference(attrs, inputs, weights):
        a, b = (_bool(x) for x in inputs)
        return [np.asarray(fn(a, b), dtype=np.bool_)]

    doc = f"""Elementwise logical ``y = {formula}`` of two bool tensors (bool output); the
    inputs broadcast as in NumPy (a non-bool input counts as true where it is non-zero).

    Equivalents: ONNX ``{name}``, PyTorch ``{torch_eq}`` (``torch.logical_{name.lower()}``),
    TensorFlow ``{tf_eq}`` (Caffe has none).
    """
    cls = type(name, (), {"__doc__": doc, "infer": staticmethod(_binary_infer),
                          "reference": staticmethod(reference)})
    op(name, inputs=["A", "B"], outputs=["Y"])(cls)


for _name in COMPARISONS:
    _register_comparison(_name)
for _name in LOGIC:
    _register_logic(_name)


@op("Not", inputs=["X"], outputs=["Y"])
class Not:
    """Elementwise logical negation ``y = not x`` of a bool tensor (bool output; a non-bool
    input counts as true where it is non-zero).

    Equivalents: ONNX ``Not``, PyTorch ``~x`` (``torch.logical_not``), TensorFlow
    ``tf.math.logical_not`` (Caffe has none).
    """

    infer = staticmethod(_unary_infer)

    @staticmethod
    def reference(attrs, inputs, weights):
        return [np.logical_not(_bool(inputs[0]))]


@op("Where", inputs=["Condition", "X", "Y"], outputs=["Z"])
class Where:
    """Elementwise select ``z = x if condition else y``; the three inputs broadcast as in
    NumPy.

    ``condition`` is bool (a non-bool condition counts as true where it is non-zero). The
    output has the dtype of ``x`` and ``y`` (float32 activations normally); when they differ,
    the floating one (as for arithmetic).

    Equivalents: ONNX ``Where``, PyTorch ``torch.where(condition, x, y)``, NumPy
    ``np.where``, TensorFlow ``tf.where`` (Caffe has none).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [broadcast(shapes)]

    @staticmethod
    def reference(attrs, inputs, weights):
        c, x, y = inputs
        if x.dtype != y.dtype:
            x, y = as_float([x, y])
        return [np.array(np.where(_bool(c), x, y), dtype=x.dtype, copy=True)]


@op("IsNaN", inputs=["X"], outputs=["Y"])
class IsNaN:
    """Elementwise test for not-a-number: ``y = isnan(x)`` (bool output).

    Equivalents: ONNX ``IsNaN``, PyTorch ``torch.isnan``, NumPy ``np.isnan``, TensorFlow
    ``tf.math.is_nan`` (Caffe has none).
    """

    infer = staticmethod(_unary_infer)

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        if x.dtype.kind != "f":
            return [np.zeros(x.shape, np.bool_)]
        return [np.isnan(x)]


@op("IsInf", inputs=["X"], outputs=["Y"], attrs={
    "detect_negative": Attr("bool", True, "true at -inf"),
    "detect_positive": Attr("bool", True, "true at +inf"),
})
class IsInf:
    """Elementwise test for infinity (bool output): true at ``+inf`` when
    ``detect_positive``, at ``-inf`` when ``detect_negative``.

    Equivalents: ONNX ``IsInf`` (its 0/1 int attributes), PyTorch ``torch.isinf`` (both),
    ``torch.isposinf`` / ``torch.isneginf`` (one), NumPy ``np.isinf``, TensorFlow
    ``tf.math.is_inf`` (Caffe has none).
    """

    infer = staticmethod(_unary_infer)

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        if x.dtype.kind != "f":
            return [np.zeros(x.shape, np.bool_)]
        pos = np.isposinf(x) if attrs["detect_positive"] else np.zeros(x.shape, np.bool_)
        neg = np.isneginf(x) if attrs["detect_negative"] else np.zeros(x.shape, np.bool_)
        return [np.logical_or(pos, neg)]
