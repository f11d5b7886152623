from __future__ import annotations

import itertools

import numpy as np

from nnrosetta.ir.registry import Attr, op

_A = -0.75  # the cubic kernel's a (fixed, as in PyTorch and ONNX)


def _reflect(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Reflect coordinates at the borders lo and hi until they are inside [lo, hi]."""
    rng = hi - lo
    if rng <= 0:
        return np.full_like(x, lo)
    below, above = lo - x, x - hi
    dx = np.where(x < lo, below, above)
    n = np.trunc(dx / rng)
    r = dx - n * rng
    even = (n % 2) == 0
    lo_side = np.where(even, lo + r, hi - r)
    hi_side = np.where(even, hi - r, lo + r)
    return np.where(x < lo, lo_side, np.where(x > hi, hi_side, x))


def _cubic_weights(t: np.ndarray) -> list[np.ndarray]:
    def k(x):
        x = np.abs(x)
        return np.where(x <= 1, ((_A + 2) * x - (_A + 3)) * x * x + 1,
                        np.where(x < 2, ((_A * x - 5 * _A) * x + 8 * _A) * x - 4 * _A, 0.0))
    return [k(t + 1), k(t), k(1 - t), k(2 - t)]


def _taps(c: np.ndarray, size: int, attrs) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(index, weight, valid) per tap along one spatial dim; c the denormalized coordinate."""
    mode, pad = attrs["mode"], attrs["padding_mode"]
    lo, hi = (0.0, size - 1.0) if attrs["align_corners"] else (-0.5, size - 0.5)
    if mode == "nearest":
        c = np.rint(c)
    out = (c < lo) | (c > hi)
    if pad == "border":
        c = np.where(out, np.clip(c, 0, size - 1), c)
    elif pad == "reflection":
        c = np.where(out, _reflect(c, lo, hi), c)
    c = c.astype(np.float64)
    if mode == "nearest":
        base, ws = np.trunc(c).astype(np.int64), [np.ones_like(c)]
        offsets = [0]
    else:
        base = np.floor(c).astype(np.int64)
        t = c - base
        if mode == "linear":
            ws, offsets = [1 - t, t], [0, 1]
        else:
            ws, offsets = _cubic_weights(t), [-1, 0, 1, 2]
    taps = []
    for off, w in zip(offsets, ws, strict=True):
        i = base + off
        if pad == "zeros":
            valid = (i >= 0) & (i < size)
        else:
            valid = np.ones(i.shape, bool)
            i = np.clip(i, 0, size - 1) if pad == "border" else \
                np.trunc(_reflect(i.astype(np.float64), lo, hi)).astype(np.int64)
        taps.append((np.clip(i, 0, size - 1), w, valid))
    return taps


@op("GridSample", inputs=["X", "Grid"], outputs=["Y"], attrs={
    "mode": Attr("str", "linear", "interpolation", ("linear", "nearest", "cubic")),
    "padding_mode": Attr("str", "zeros", "samples outside the input",
                         ("zeros", "border", "reflection")),
    "align_corners": Attr("bool", False, "-1 and 1 are the centres of the corner elements "
                          "(else their outer edges)"),
})
class GridSample:
    """Samples ``X`` ``[N, C, D1 .. Dk]`` at the normalized coordinates of ``Grid``
    ``[N, O1 .. Om, k]`` (last dim ``(x, y, ...)``: ``x`` along ``Dk``, in [-1, 1]), giving
    ``[N, C, O1 .. Om]``: ``nearest`` (round half to even), ``linear`` or ``cubic`` (a = -0.75,
    2-D) interpolation; outside the input ``padding_mode`` gives zeros, the border value, or
    reflects.

    Equivalents: ONNX ``GridSample`` (opset 16 4-D with bilinear/bicubic names, 20 N-D),
    PyTorch ``F.grid_sample`` (4-D and 5-D; mode ``bilinear``/``nearest``/``bicubic``),
    TensorFlow has none in core (tfa ``resampler``); Caffe has none.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x, g = tuple(shapes[0]), tuple(shapes[1])
        if len(x) < 3 or len(g) != len(x) or g[-1] != len(x) - 2 or g[0] != x[0]:
            raise ValueError(f"grid shape {g} does not fit input shape {x} (expected "
                             f"[{x[0]}, ..., {len(x) - 2}])")
        if attrs["mode"] == "cubic" and len(x) != 4:
            raise ValueError("cubic GridSample is 2-D only (4-D input)")
        return [(x[0], x[1], *g[1:-1])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x, grid = inputs
        GridSample.infer(attrs, [x.shape, grid.shape], {})
        n, c, dims = x.shape[0], x.shape[1], x.shape[2:]
        k = len(dims)
        g = grid.astype(np.float32)
        per_dim = []
        for i, size in enumerate(dims):
            v = g[..., k - 1 - i]
            if attrs["align_corners"]:
                coord = (v + 1) / np.float32(2) * np.float32(size - 1)
            else:
                coord = ((v + 1) * np.float32(size) - 1) / np.float32(2)
            per_dim.append(_taps(coord.reshape(n, -1), size, attrs))
        strides = [int(np.prod(dims[i + 1:])) for i in range(k)]
        xf = x.astype(np.float64).reshape(n, c, -1)
        bi = np.arange(n)[:, None, None]
        ci = np.arange(c)[None, :, None]
        y = np.zeros((n, c, per_dim[0][0][0].shape[1]))
        for combo in itertools.product(*per_dim):
            flat = sum(t[0] * s for t, s in zip(combo, strides, strict=True))
            w = np.prod([t[1] * t[2] for t in combo], axis=0)
            y += xf[bi, ci, flat[:, None, :]] * w[:, None, :]
        return [y.reshape((n, c, *grid.shape[1:-1])).astype(x.dtype)]
