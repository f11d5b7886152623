import numpy as np

from nnrosetta.ir.registry import Attr, op


# -- geometry shared with LpPool (and the emitters) ---------------------------------------
def spatial_rank(attrs, shape, op_name="Pool") -> int:
    """The number of spatial axes (1 to 3) of an N, C, *spatial input, checked against the
    per-axis attributes."""
    n = len(shape) - 2
    if not 1 <= n <= 3:
        raise ValueError(f"{op_name} needs an N, C, D1[, D2[, D3]] input (1 to 3 spatial "
                         f"axes), got shape {tuple(shape)}")
    if attrs.get("global_pooling"):
        return n
    for key in ("kernel_shape", "strides", "dilations"):
        v = list(attrs.get(key) or [])
        if v and len(v) != n:
            raise ValueError(f"{key} {v} has {len(v)} values for {n} spatial axes "
                             f"(input shape {tuple(shape)})")
    p = list(attrs.get("pads") or [])
    if p and len(p) != 2 * n:
        raise ValueError(f"pads {p} must have {2 * n} values (begin per axis, then end per "
                         f"axis) for {n} spatial axes")
    return n


def per_axis(attrs, key, n, fill) -> list[int]:
    """An ints attribute with one value per spatial axis ([] -> ``fill`` for each axis)."""
    v = [int(d) for d in (attrs.get(key) or [])]
    return v if v else [fill] * n


def window_out(size, ext, s, pb, pe, ceil_mode) -> int:
    """Output length for a window of extent ``ext`` ((k - 1) * dilation + 1); with ceil_mode
    a last window that would start at or beyond input + pad_begin is dropped (Caffe, PyTorch,
    ONNX)."""
    span = size + pb + pe - ext
    if span < 0:
        raise ValueError(f"window {ext} does not fit input {size} with pads ({pb}, {pe})")
    n = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (n - 1) * s >= size + pb:
        n -= 1
    return n


def geometry(attrs, shape, op_name="Pool"):
    """(kernel, strides, dilations, pad_begin, pad_end, out) per spatial axis of an
    N, C, *spatial shape."""
    n = spatial_rank(attrs, shape, op_name)
    if attrs.get("global_pooling"):
        return list(shape[2:]), [1] * n, [1] * n, [0] * n, [0] * n, [1] * n
    if not attrs.get("kernel_shape"):
        raise ValueError("kernel_shape is required unless global_pooling")
    k = per_axis(attrs, "kernel_shape", n, 1)
    s = per_axis(attrs, "strides", n, 1)
    d = per_axis(attrs, "dilations", n, 1)
    p = per_axis(attrs, "pads", 2 * n, 0)
    if min(p) < 0:
        raise ValueError(f"pads must be >= 0, got {p}")
    if min(k + s + d) < 1:
        raise ValueError(f"kernel_shape, strides and dilations must be >= 1, got {k}, {s}, {d}")
    pb, pe = p[:n], p[n:]
    out = [window_out(shape[2 + a], (k[a] - 1) * d[a] + 1, s[a], pb[a], pe[a],
                      bool(attrs.get("ceil_mode"))) for a in range(n)]
    return k, s, d, pb, pe, out


def windows_nd(xp, k, s, d, out):
    """View of xp [..., *spatial] as [..., *out, *k] windows (stride s, dilation d)."""
    n = len(k)
    ext = tuple((k[a] - 1) * d[a] + 1 for a in range(n))
    v = np.lib.stride_tricks.sliding_window_view(xp, ext, axis=tuple(range(-n, 0)))
    idx = tuple(slice(None, None, st) for st in s) + tuple(slice(None, None, dl) for dl in d)
    v = v[(Ellipsis, *idx)]
    return v[(Ellipsis, *(slice(0, o) for o in out), *(slice(None),) * n)]


def padded(x, pb, pe, k, s, d, out, value):
    """x padded by (pb, pe) and, past the end, as far as ceil_mode windows reach (those
    extra positions hold ``value`` too); also returns the extra amounts."""
    n = len(k)
    extra = [max(0, (out[a] - 1) * s[a] + (k[a] - 1) * d[a] + 1
                 - (x.shape[2 + a] + pb[a] + pe[a])) for a in range(n)]
    widths = ((0, 0), (0, 0)) + tuple((pb[a], pe[a] + extra[a]) for a in range(n))
    return np.pad(x, widths, constant_values=value), extra


def avg_counts(in_spatial, k, s, d, pb, pe, out, include_pad) -> np.ndarray:
    """Per output position, the number of window positions an average divides by: those
    inside the padded input (``include_pad``) or inside the real input."""
    n = len(k)
    mask = np.ones(tuple(in_spatial), dtype=np.float64)
    if include_pad:
        mask = np.pad(mask, tuple((pb[a], pe[a]) for a in range(n)), constant_values=1.0)
        mask, _ = padded(mask[None, None], [0] * n, [0] * n, k, s, d, out, 0.0)
    else:
        mask, _ = padded(mask[None, None], pb, pe, k, s, d, out, 0.0)
    axes = tuple(range(-n, 0))
    return windows_nd(mask[0, 0], k, s, d, out).sum(axis=axes)


@op("Pool", inputs=["X"], outputs=["Y"], attrs={
    "mode": Attr("str", doc="max or avg", choices=("max", "avg")),
    "kernel_shape": Attr("ints", [], "one size per spatial axis ([kh, kw] for NCHW, [k] for "
                         "NCW, [kd, kh, kw] for NCDHW); required unless global_pooling"),
    "strides": Attr("ints", [], "one per spatial axis ([sh, sw]); [] = all 1"),
    "pads": Attr("ints", [], "begin per spatial axis, then end per spatial axis ([top, left, "
                 "bottom, right] in 2-D); [] = no padding"),
    "dilations": Attr("ints", [], "one per spatial axis: the step between a window's "
                      "elements; [] = all 1"),
    "ceil_mode": Attr("bool", False, "round the output size up instead of down"),
    "count_include_pad": Attr("bool", True, "avg: padding counts in the divisor"),
    "global_pooling": Attr("bool", False, "pool the whole spatial extent to 1x1"),
}, weights={})
class Pool:
    """Max or average pooling over ``kernel_shape`` windows of an N, C, *spatial input with 1
    to 3 spatial axes (NCW, NCHW, NCDHW; the per-axis attributes have one value per axis).

    Output size per spatial axis: ``floor((in + pad_begin + pad_end - ext) / stride) + 1``
    with ``ext = (k - 1) * dilation + 1``, or with ``ceil_mode`` the ceiling, where a last
    window that would start at or beyond ``in + pad_begin`` is dropped (the Caffe, PyTorch and
    ONNX rule). With ``ceil_mode`` the last window may reach past the padded input: that part
    never counts.

    ``max`` ignores padding. ``avg`` divides the window's sum by the number of its positions
    inside the padded input (``count_include_pad = True``: padding counts, the region past the
    padded input does not; as Caffe ``AVE`` and PyTorch ``count_include_pad=True``), or by the
    number of real input positions (``count_include_pad = False``).
    ``global_pooling`` pools each whole channel to size 1 (kernel, strides, pads and
    dilations ignored).

    Equivalents: Caffe ``Pooling`` (2-D; always ceil_mode, symmetric pads), ONNX
    ``MaxPool``/``AveragePool``/``GlobalMaxPool``/``GlobalAveragePool``, PyTorch
    ``nn.MaxPool1d/2d/3d`` (dilation: max only), ``nn.AvgPool1d/2d/3d``,
    ``nn.AdaptiveAvgPool2d(1)``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = shapes[0]
        return [(x[0], x[1], *geometry(attrs, x)[5])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        k, s, d, pb, pe, out = geometry(attrs, x.shape)
        n = len(k)
        axes = tuple(range(-n, 0))
        if attrs["global_pooling"]:
            red = np.max if attrs["mode"] == "max" else np.mean
            return [red(x, axis=tuple(range(2, x.ndim)), keepdims=True).astype(x.dtype)]
        if attrs["mode"] == "max":
            xp, _ = padded(x, pb, pe, k, s, d, out, -np.inf)
            y = windows_nd(xp, k, s, d, out).max(axis=axes)
            return [np.ascontiguousarray(y, dtype=x.dtype)]
        xp, _ = padded(x, pb, pe, k, s, d, out, 0.0)
        total = windows_nd(xp, k, s, d, out).sum(axis=axes, dtype=np.float64)
        count = avg_counts(x.shape[2:], k, s, d, pb, pe, out, attrs["count_include_pad"])
        y = total / np.maximum(count, 1)
        return [np.ascontiguousarray(y, dtype=x.dtype)]
