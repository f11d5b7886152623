"""Resize, and the per-axis interpolation taps its backends reuse (``plan``, ``axis_taps``)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from nnrosetta.ir.ops._axes import norm_axes
from nnrosetta.ir.registry import Attr, op

COORDINATE_MODES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                    "asymmetric", "tf_crop_and_resize", "tf_half_pixel_for_nn")
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


@dataclass
class Plan:
    """A Resize node's geometry over every dim of the input."""

    out_shape: list[int]
    scales: list[float]                 # coordinate scale per dim (output / input)
    roi: list[float] | None             # [start_0 .. start_r-1, end_0 .. end_r-1] or None
    axes: list[int]                     # dims that change (in the order they are resized)


RUNTIME_ROLES = ("roi", "scales", "sizes")


def runtime_values(weights) -> dict[str, list[float]]:
    """The run-time roi / scales / sizes among a node's weights (bound inputs), as lists."""
    return {k: [float(v) for v in np.asarray(weights[k]).reshape(-1)]
            for k in RUNTIME_ROLES if k in weights and weights[k] is not None}


def plan(attrs, shape, values=None) -> Plan:
    """Output shape and per-dim scales of ``Resize`` (ONNX semantics: ``scales`` give
    ``floor(in * scale)`` outputs; ``sizes`` give the outputs and ``scale = size / in``, or
    with ``keep_aspect_ratio_policy`` one scale over ``axes`` and ``round(in * scale)``).
    ``values``: roi / scales / sizes computed at run time (bound inputs), which take the
    place of the attributes."""
    shape = [int(d) for d in shape]
    r = len(shape)
    values = values or {}
    scales_a = list(values["scales"] if "scales" in values else attrs.get("scales") or [])
    sizes_a = list(values["sizes"] if "sizes" in values else attrs.get("sizes") or [])
    if bool(scales_a) == bool(sizes_a):
        raise ValueError("exactly one of scales and sizes must be given")
    axes = norm_axes(attrs.get("axes") or range(r), r)
    given = scales_a or sizes_a
    if len(given) != len(axes):
        raise ValueError(f"{'scales' if scales_a else 'sizes'} {given} must have one value per "
                         f"axis {axes}")
    roi_a = [float(v) for v in (values["roi"] if "roi" in values else attrs.get("roi") or [])]
    roi = None
    if roi_a:
        if len(roi_a) != 2 * len(axes):
            raise ValueError(f"roi {roi_a} must have {2 * len(axes)} values")
        roi = [0.0] * r + [1.0] * r
        for i, d in enumerate(axes):
            roi[d], roi[r + d] = roi_a[i], roi_a[len(axes) + i]
    scales = [1.0] * r
    out = list(shape)
    if scales_a:
        for d, s in zip(axes, scales_a, strict=True):
            s = float(np.float32(s))  # ONNX scales are a float tensor
            if s <= 0:
                raise ValueError(f"scale {s} must be positive")
            scales[d] = s
            out[d] = int(s * shape[d])
    else:
        if any(int(s) < 0 for s in sizes_a):
            raise ValueError(f"sizes {sizes_a} must not be negative")
        for d, s in zip(axes, sizes_a, strict=True):
            out[d] = int(s)
            scales[d] = int(s) / shape[d]
        policy = attrs.get("keep_aspect_ratio_policy", "stretch")
        if policy != "stretch":
            pick = min if policy == "not_larger" else max
            s = pick(scales[d] for d in axes)
            for d in axes:
                scales[d] = s
                out[d] = int(s * shape[d] + 0.5)
    changed = [d for d in axes
               if not (math.isclose(scales[d], 1.0) and out[d] == shape[d]
                       and (roi is None or (math.isclose(roi[d], 0.0)
                                            and math.isclose(roi[r + d], 1.0))))]
    return Plan(out, scales, roi, changed)


def _nearest(ratio: float, mode: str) -> list[float]:
    if ratio == 1:
        return [0.0, 1.0]
    if mode == "round_prefer_floor":
        return [float(ratio <= 0.5), float(ratio > 0.5)]
    if mode == "round_prefer_ceil":
        return [float(ratio < 0.5), float(ratio >= 0.5)]
    return [1.0, 0.0] if mode == "floor" else [0.0, 1.0]


def _cubic(ratio: float, a: float) -> list[float]:
    return [_cubic_kernel(ratio + 1, a), _cubic_kernel(ratio, a), _cubic_kernel(1 - ratio, a),
            _cubic_kernel(2 - ratio, a)]


def _cubic_aa(ratio: float, scale: float, a: float) -> list[float]:
    scale = min(scale, 1.0)
    start = int(np.floor(-2 / scale) + 1)
    c = [_cubic_kernel(scale * (i - ratio), a) for i in range(start, 2 - start)]
    return [v / sum(c) for v in c]


def _cubic_kernel(x: float, a: float) -> float:
    x = abs(x)
    if x <= 1:
        return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1
    return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a if x < 2 else 0.0


def _linear_aa(ratio: float, scale: float) -> list[float]:
    scale = min(scale, 1.0)
    start = int(np.floor(-1 / scale) + 1)
    args = (np.arange(start, 2 - start) - ratio) * scale
    c = np.clip(1 - np.abs(args), 0, 1)
    return list(c / c.sum())


def source_coords(attrs, in_len: int, out_len: int, scale: float,
                  roi: tuple[float, float] | None) -> tuple[np.ndarray, np.ndarray | None]:
    """The input coordinate of each output position along one dim (ONNX
    coordinate_transformation_mode), and for tf_crop_and_resize which positions fall outside
    the input (they take extrapolation_value)."""
    mode = attrs.get("coordinate_transformation_mode", "half_pixel")
    y = np.arange(out_len, dtype=np.float64)
    out_f = scale * in_len
    if mode == "align_corners":
        x = np.zeros(out_len) if out_f == 1 else y * (in_len - 1) / (out_f - 1)
    elif mode == "asymmetric":
        x = y / scale
    elif mode == "tf_half_pixel_for_nn":
        x = (y + 0.5) / scale
    elif mode == "tf_crop_and_resize":
        r0, r1 = roi if roi is not None else (0.0, 1.0)
        if out_f == 1:
            x = np.full(out_len, (r1 - r0) * (in_len - 1) / 2)
        else:
            x = y * (r1 - r0) * (in_len - 1) / (out_f - 1)
        x = x + r0 * (in_len - 1)
        return x, (x < 0) | (x > in_len - 1)
    elif mode == "pytorch_half_pixel":
        x = np.full(out_len, -0.5) if out_f == 1 else (y + 0.5) / scale - 0.5
    elif mode == "half_pixel":
        x = (y + 0.5) / scale - 0.5
    elif mode == "half_pixel_symmetric":
        offset = in_len / 2 * (1 - out_len / out_f)
        x = offset + (y + 0.5) / scale - 0.5
    else:
        raise ValueError(f"coordinate_transformation_mode {mode!r}")
    return x, None


def axis_taps(attrs, in_len: int, out_len: int, scale: float,
              roi: tuple[float, float] | None = None,
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Resize along one dim as taps: ``out[i] = sum_k weight[i, k] * in[index[i, k]]``
    (index int64 [out, n] within the input, weight float64 [out, n]), and the positions that
    take extrapolation_value instead (bool [out], or None). ONNX semantics: neighbours beyond
    the edge repeat the edge value (unless exclude_outside)."""
    x, extra = source_coords(attrs, in_len, out_len, scale, roi)
    if out_len == 0:
        return np.zeros((0, 1), np.int64), np.zeros((0, 1)), extra
    mode = attrs.get("mode", "nearest")
    a = float(attrs.get("cubic_coeff_a", -0.75))
    aa = bool(attrs.get("antialias", False))
    fl = np.floor(x)
    ratios = np.where(x == fl, 1.0, x - fl)
    rows = []
    for ratio in ratios:
        if mode == "nearest":
            rows.append(_nearest(float(ratio), attrs.get("nearest_mode", "round_prefer_floor")))
        elif mode == "linear":
            rows.append(_linear_aa(ratio, scale) if aa else [1 - ratio, ratio])
        elif mode == "cubic":
            rows.append(_cubic_aa(float(ratio), scale, a) if aa else _cubic(float(ratio), a))
        else:
            raise ValueError(f"mode {mode!r}")
    w = np.asarray(rows, dtype=np.float64)
    n = w.shape[1]
    pad = math.ceil(n / 2)
    xp = x + pad
    p = np.floor(xp).astype(np.int64)
    frac = xp - p
    if n % 2 == 0:
        off = np.where(frac == 0, -(n // 2), -(n // 2) + 1)
    else:
        off = np.where(frac <= 0.5, -((n - 1) // 2), -((n - 1) // 2) + 1)
    idx = (p + off)[:, None] + np.arange(n)[None, :] - pad
    if attrs.get("exclude_outside", False):
        w = np.where((idx < 0) | (idx >= in_len), 0.0, w)
        total = w.sum(axis=1, keepdims=True)
        w = w / np.where(total == 0, 1.0, total)
    idx = np.clip(idx, 0, in_len - 1)
    if extra is not None and not extra.any():
        extra = None
    return idx.astype(np.int64), w, extra


def axis_matrix(attrs, in_len: int, out_len: int, scale: float,
                roi: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """``axis_taps`` as a dense [out, in] matrix (taps on the same input index summed)."""
    idx, w, extra = axis_taps(attrs, in_len, out_len, scale, roi)
    m = np.zeros((out_len, in_len))
    np.add.at(m, (np.repeat(np.arange(out_len), idx.shape[1]), idx.reshape(-1)), w.reshape(-1))
    return m, extra


def axis_roi(p: Plan, d: int) -> tuple[float, float] | None:
    r = len(p.scales)
    return None if p.roi is None else (p.roi[d], p.roi[r + d])


@op("Resize", inputs=["X"], outputs=["Y"], weights={k: False for k in RUNTIME_ROLES},
    weight_inputs=RUNTIME_ROLES, attrs={
    "mode": Attr("str", "nearest", "interpolation", ("nearest", "linear", "cubic")),
    "scales": Attr("floats", [], "output / input per dim of axes (outputs floor(in * scale)); "
                   "[] when sizes are given"),
    "sizes": Attr("ints", [], "output size per dim of axes; [] when scales are given"),
    "axes": Attr("ints", [], "dims scales / sizes / roi refer to; [] = all dims in order"),
    "coordinate_transformation_mode": Attr("str", "half_pixel", "output -> input coordinates",
                                           COORDINATE_MODES),
    "nearest_mode": Attr("str", "round_prefer_floor", "rounding of nearest", NEAREST_MODES),
    "cubic_coeff_a": Attr("float", -0.75, "the cubic kernel's a"),
    "exclude_outside": Attr("bool", False, "cubic: taps outside the input get weight 0 "
                            "(the others renormalized)"),
    "extrapolation_value": Attr("float", 0.0, "tf_crop_and_resize: value outside the input"),
    "antialias": Attr("bool", False, "linear / cubic: widen the kernel by 1/scale when "
                      "downsampling"),
    "keep_aspect_ratio_policy": Attr("str", "stretch", "with sizes: one scale over axes",
                                     ("stretch", "not_larger", "not_smaller")),
    "roi": Attr("floats", [], "tf_crop_and_resize: [starts of axes, ends of axes], normalized "
                "input coordinates; [] = whole input"),
})
class Resize:
    """Resizes any dims by interpolation, with ONNX ``Resize`` (opset 19) semantics: each
    resized dim independently (separable) maps output index ``y`` to input coordinate ``x`` by
    ``coordinate_transformation_mode`` (``half_pixel``: ``x = (y + 0.5) / scale - 0.5``;
    ``align_corners``: ``x = y * (in - 1) / (out - 1)``; ``asymmetric``: ``x = y / scale``; …)
    and interpolates ``nearest`` (``nearest_mode`` rounding), ``linear`` or ``cubic``
    (``cubic_coeff_a``) between input elements, repeating the edge beyond the border.

    Scales and sizes are attributes when they are constants (frontends resolve constant
    inputs); exactly one is given. When they are computed at run time (an ONNX model that
    feeds ``scales`` from a graph input), ``roi``, ``scales`` and ``sizes`` are weight roles
    bound to inputs (1-D: one value per axis, ``roi`` two) and the resized dims of the output
    are known only at run time: shape inference gives -1 for them, and such a tensor may only
    be a graph output (see docs/ir.md, "Dims known only at run time").

    Equivalents: ONNX ``Resize`` (``Upsample`` for opset < 10), PyTorch ``F.interpolate`` /
    ``nn.Upsample`` (``nearest`` = asymmetric + floor, ``nearest-exact`` = half_pixel +
    round_prefer_ceil, ``bilinear``/``bicubic`` with ``align_corners`` = half_pixel or
    align_corners, a = -0.75), TensorFlow ``tf.image.resize``, Caffe ``Interp`` (not core).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        shape = [int(d) for d in shapes[0]]
        bound = [k for k in RUNTIME_ROLES if k in weights]
        if not bound:
            return [tuple(plan(attrs, shape).out_shape)]
        r = len(shape)
        axes = norm_axes(attrs.get("axes") or range(r), r)
        for k in bound:
            want = 2 * len(axes) if k == "roi" else len(axes)
            if tuple(weights[k]) not in ((want,), (0,)):
                raise ValueError(f"{k} computed at run time has shape {list(weights[k])}; "
                                 f"expected [{want}] (axes {axes})")
        if ("scales" in bound or "sizes" in bound) and \
                (attrs.get("scales") or attrs.get("sizes")):
            raise ValueError("scales / sizes are given both as an attribute and as an input")
        if not {"scales", "sizes"} & set(bound):    # a run-time roi only: the shape is known
            return [tuple(plan(attrs, shape, {"roi": [0.0] * (2 * len(axes))}).out_shape)]
        return [tuple(-1 if d in axes else n for d, n in enumerate(shape))]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        values = runtime_values(weights)
        p = plan(attrs, x.shape, values)
        y = x.astype(np.float64)
        value = float(attrs.get("extrapolation_value", 0.0))
        for d in p.axes:
            idx, w, extra = axis_taps(attrs, y.shape[d], p.out_shape[d], p.scales[d],
                                      axis_roi(p, d))
            g = np.take(y, idx, axis=d)                     # [..., out, n, ...]
            y = (g * w.reshape((1,) * d + w.shape + (1,) * (y.ndim - d - 1))).sum(axis=d + 1)
            if extra is not None:
                y = np.where(extra.reshape((1,) * d + (-1,) + (1,) * (y.ndim - d - 1)), value, y)
        return [y.astype(x.dtype)]
