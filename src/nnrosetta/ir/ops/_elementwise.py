"""Helpers shared by the elementwise ops (not an op): NumPy broadcasting of shapes, the float
dtype elementwise arithmetic computes in, and an accurate vectorised ``erf``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def broadcast(shapes: Sequence[Sequence[int]]) -> tuple[int, ...]:
    """The NumPy broadcast of the input shapes (ValueError when they do not broadcast)."""
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError as e:
        raise ValueError(f"input shapes {[list(s) for s in shapes]} do not broadcast") from e


def as_float(inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    """IR arithmetic is floating point: integer or bool inputs (constants, e.g. an int64
    exponent) take the floating dtype of the other inputs (float32 when there is none)."""
    floats = [x.dtype for x in inputs if x.dtype.kind == "f"]
    dt = np.result_type(*floats) if floats else np.dtype(np.float32)
    return [x if x.dtype.kind == "f" else x.astype(dt) for x in inputs]


def result(y: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``y`` as a fresh array of ``dtype``."""
    return np.array(y, dtype=dtype, copy=True)


# erf: Maclaurin series near 0 (relative accuracy to double precision), Numerical Recipes'
# Chebyshev fit of erfc elsewhere (fractional error < 1.2e-7 everywhere, well within float32).
_ERFC = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807,
         -1.13520398, 1.48851587, -0.82215223, 0.17087277)


def _erfc_cheb(z: np.ndarray) -> np.ndarray:
    """erfc(z) for z >= 0."""
    t = 1.0 / (1.0 + 0.5 * z)
    poly = np.zeros_like(z)
    for c in reversed(_ERFC):
        poly = poly * t + c
    return t * np.exp(-z * z + poly)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, elementwise (computed in float64, returned as ``x.dtype``)."""
    x64 = np.asarray(x, dtype=np.float64)
    a = np.abs(x64)
    small = a < 0.5
    # series: 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)); 14 terms for |x| < 0.5
    xs = np.where(small, x64, 0.0)
    x2 = xs * xs
    term = xs.copy()
    total = xs.copy()
    for n in range(1, 14):
        term = term * (-x2) / n
        total = total + term / (2 * n + 1)
    series = total * (2.0 / np.sqrt(np.pi))
    with np.errstate(over="ignore", under="ignore"):
        tail = np.sign(x64) * (1.0 - _erfc_cheb(np.where(small, 1.0, a)))
    return np.where(small, series, tail).astype(np.asarray(x).dtype)
