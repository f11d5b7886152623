"""Elementwise unary ops without attributes, registered from one table.

Each row: op name, NumPy function (float input -> same shape; computed in the input's dtype
unless noted), and the op's documentation (first paragraph: what it computes; then
equivalents).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnrosetta.ir.ops._elementwise import erf
from nnrosetta.ir.registry import op


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(np.zeros((), x.dtype), x)


def _mish(x: np.ndarray) -> np.ndarray:
    x64 = x.astype(np.float64)
    return x64 * np.tanh(np.logaddexp(0.0, x64))


def _hard_swish(x: np.ndarray) -> np.ndarray:
    x64 = x.astype(np.float64)
    return x64 * np.clip(x64 / 6.0 + 0.5, 0.0, 1.0)


# name -> (function, documentation)
UNARY: dict[str, tuple[Callable[[np.ndarray], np.ndarray], str]] = {
    "Neg": (np.negative, """\
        Negation: ``y = -x``, elementwise.

        Equivalents: Caffe ``Power`` with ``scale: -1``, ONNX ``Neg``, PyTorch ``-x`` /
        ``torch.neg``, TensorFlow ``tf.negative``."""),
    "Exp": (np.exp, """\
        Natural exponential: ``y = e ** x``, elementwise.

        Equivalents: Caffe ``Exp`` (default ``base``, ``scale`` and ``shift``), ONNX ``Exp``,
        PyTorch ``torch.exp``, TensorFlow ``tf.exp``."""),
    "Log": (np.log, """\
        Natural logarithm: ``y = ln(x)``, elementwise (``nan`` for x < 0, ``-inf`` at 0).

        Equivalents: Caffe ``Log`` (default ``base``, ``scale`` and ``shift``), ONNX ``Log``,
        PyTorch ``torch.log``, TensorFlow ``tf.math.log``."""),
    "Sqrt": (np.sqrt, """\
        Square root: ``y = sqrt(x)``, elementwise (``nan`` for x < 0).

        Equivalents: Caffe ``Power`` with ``power: 0.5``, ONNX ``Sqrt``, PyTorch
        ``torch.sqrt``, TensorFlow ``tf.sqrt``."""),
    "Reciprocal": (np.reciprocal, """\
        Reciprocal: ``y = 1 / x``, elementwise (``inf`` at 0).

        Equivalents: Caffe ``Power`` with ``power: -1``, ONNX ``Reciprocal``, PyTorch
        ``torch.reciprocal``, TensorFlow ``tf.math.reciprocal``."""),
    "Floor": (np.floor, """\
        Round down: ``y = floor(x)``, elementwise.

        Equivalents: ONNX ``Floor``, PyTorch ``torch.floor``, TensorFlow ``tf.floor``
        (Caffe has none)."""),
    "Ceil": (np.ceil, """\
        Round up: ``y = ceil(x)``, elementwise.

        Equivalents: ONNX ``Ceil``, PyTorch ``torch.ceil``, TensorFlow ``tf.math.ceil``
        (Caffe has none)."""),
    "Round": (np.round, """\
        Round to the nearest integer, halves to even (``0.5 -> 0``, ``1.5 -> 2``,
        ``-2.5 -> -2``), elementwise.

        Equivalents: ONNX ``Round``, PyTorch ``torch.round``, TensorFlow ``tf.round``
        (all round halves to even; Caffe has none)."""),
    "Sign": (np.sign, """\
        Sign: ``y = -1`` for x < 0, ``0`` for x = 0, ``1`` for x > 0, elementwise.

        Equivalents: ONNX ``Sign``, PyTorch ``torch.sign``, TensorFlow ``tf.sign`` (Caffe has
        none)."""),
    "Sin": (np.sin, """\
        Sine (radians): ``y = sin(x)``, elementwise.

        Equivalents: ONNX ``Sin``, PyTorch ``torch.sin``, TensorFlow ``tf.sin`` (Caffe has
        none)."""),
    "Cos": (np.cos, """\
        Cosine (radians): ``y = cos(x)``, elementwise.

        Equivalents: ONNX ``Cos``, PyTorch ``torch.cos``, TensorFlow ``tf.cos`` (Caffe has
        none)."""),
    "Tan": (np.tan, """\
        Tangent (radians): ``y = tan(x)``, elementwise.

        Equivalents: ONNX ``Tan``, PyTorch ``torch.tan``, TensorFlow ``tf.tan`` (Caffe has
        none)."""),
    "Asin": (np.arcsin, """\
        Inverse sine: ``y = asin(x)`` in [-pi/2, pi/2], elementwise (``nan`` outside [-1, 1]).

        Equivalents: ONNX ``Asin``, PyTorch ``torch.asin``, TensorFlow ``tf.asin`` (Caffe has
        none)."""),
    "Acos": (np.arccos, """\
        Inverse cosine: ``y = acos(x)`` in [0, pi], elementwise (``nan`` outside [-1, 1]).

        Equivalents: ONNX ``Acos``, PyTorch ``torch.acos``, TensorFlow ``tf.acos`` (Caffe has
        none)."""),
    "Atan": (np.arctan, """\
        Inverse tangent: ``y = atan(x)`` in (-pi/2, pi/2), elementwise.

        Equivalents: ONNX ``Atan``, PyTorch ``torch.atan``, TensorFlow ``tf.atan`` (Caffe has
        none)."""),
    "Sinh": (np.sinh, """\
        Hyperbolic sine: ``y = (e ** x - e ** -x) / 2``, elementwise.

        Equivalents: ONNX ``Sinh``, PyTorch ``torch.sinh``, TensorFlow ``tf.sinh`` (Caffe has
        none)."""),
    "Cosh": (np.cosh, """\
        Hyperbolic cosine: ``y = (e ** x + e ** -x) / 2``, elementwise.

        Equivalents: ONNX ``Cosh``, PyTorch ``torch.cosh``, TensorFlow ``tf.cosh`` (Caffe has
        none)."""),
    "Asinh": (np.arcsinh, """\
        Inverse hyperbolic sine: ``y = ln(x + sqrt(x ** 2 + 1))``, elementwise.

        Equivalents: ONNX ``Asinh``, PyTorch ``torch.asinh``, TensorFlow ``tf.asinh`` (Caffe
        has none)."""),
    "Acosh": (np.arccosh, """\
        Inverse hyperbolic cosine: ``y = ln(x + sqrt(x ** 2 - 1))``, elementwise (``nan`` for
        x < 1).

        Equivalents: ONNX ``Acosh``, PyTorch ``torch.acosh``, TensorFlow ``tf.acosh`` (Caffe
        has none)."""),
    "Atanh": (np.arctanh, """\
        Inverse hyperbolic tangent: ``y = ln((1 + x) / (1 - x)) / 2``, elementwise (``nan``
        outside [-1, 1]).

        Equivalents: ONNX ``Atanh``, PyTorch ``torch.atanh``, TensorFlow ``tf.atanh`` (Caffe
        has none)."""),
    "Erf": (erf, """\
        Gauss error function: ``y = 2 / sqrt(pi) * integral_0^x exp(-t ** 2) dt``,
        elementwise.

        Equivalents: ONNX ``Erf``, PyTorch ``torch.erf``, TensorFlow ``tf.math.erf`` (Caffe
        has none)."""),
    "Softplus": (_softplus, """\
        Softplus: ``y = ln(1 + e ** x)``, elementwise (computed without overflow).

        Equivalents: Caffe ``BNLL``, ONNX ``Softplus``, PyTorch ``nn.Softplus()`` (its default
        ``threshold=20`` returns x above 20, equal in float32), TensorFlow
        ``tf.nn.softplus``."""),
    "Softsign": (lambda x: x / (np.ones((), x.dtype) + np.abs(x)), """\
        Softsign: ``y = x / (1 + |x|)``, elementwise.

        Equivalents: ONNX ``Softsign``, PyTorch ``nn.Softsign()``, TensorFlow
        ``tf.nn.softsign`` (Caffe has none)."""),
    "Mish": (_mish, """\
        Mish: ``y = x * tanh(ln(1 + e ** x))``, elementwise.

        Equivalents: ONNX ``Mish`` (opset 18), PyTorch ``nn.Mish()``, TensorFlow
        ``x * tf.tanh(tf.nn.softplus(x))`` (Caffe has none)."""),
    "HardSwish": (_hard_swish, """\
        Hard swish: ``y = x * max(0, min(1, x / 6 + 1 / 2))``, elementwise.

        Equivalents: ONNX ``HardSwish`` (opset 14), PyTorch ``nn.Hardswish()``, TensorFlow
        ``x * tf.nn.relu6(x + 3) / 6`` (Caffe has none)."""),
}


def _register(name: str, fn: Callable[[np.ndarray], np.ndarray], doc: str) -> type:
    def infer(attrs, shapes, weights):
        return [tuple(shapes[0])]

    def reference(attrs, inputs, weights):
        x = inputs[0]
        if x.dtype.kind != "f":
            x = x.astype(np.float32)
        with np.errstate(all="ignore"):
            return [np.asarray(fn(x), dtype=x.dtype)]

    cls = type(name, (), {"__doc__": doc, "__module__": __name__,
                          "infer": staticmethod(infer), "reference": staticmethod(reference)})
    return op(name, inputs=["X"], outputs=["Y"])(cls)


for _name, (_fn, _doc) in UNARY.items():
    globals()[_name] = _register(_name, _fn, _doc)
