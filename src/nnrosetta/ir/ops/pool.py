import numpy as np

from nnrosetta.ir.ops._spatial import check_nchw, pads4, pair, pool_out, windows
from nnrosetta.ir.registry import Attr, op


def _geometry(attrs, shape):
    """(kernel, strides, pad_begin, pad_end, out) for an NCHW shape."""
    if attrs["global_pooling"]:
        return list(shape[2:]), [1, 1], [0, 0], [0, 0], [1, 1]
    if not attrs["kernel_shape"]:
        raise ValueError("kernel_shape is required unless global_pooling")
    k, s = pair(attrs, "kernel_shape"), pair(attrs, "strides")
    pb, pe = pads4(attrs)
    out = [pool_out(shape[2 + a], k[a], s[a], pb[a], pe[a], attrs["ceil_mode"])
           for a in range(2)]
    return k, s, pb, pe, out


@op("Pool", inputs=["X"], outputs=["Y"], attrs={
    "mode": Attr("str", doc="max or avg", choices=("max", "avg")),
    "kernel_shape": Attr("ints", [], "[kh, kw]; required unless global_pooling"),
    "strides": Attr("ints", [1, 1], "[sh, sw]"),
    "pads": Attr("ints", [0, 0, 0, 0], "[top, left, bottom, right]"),
    "ceil_mode": Attr("bool", False, "round the output size up instead of down"),
    "count_include_pad": Attr("bool", True, "avg: padding counts in the divisor"),
    "global_pooling": Attr("bool", False, "pool the whole spatial extent to 1x1"),
}, weights={})
class Pool:
    """2-D max or average pooling over ``kernel_shape`` windows of an NCHW input.

    Output size per spatial axis: ``floor((in + pad_begin + pad_end - k) / stride) + 1``, or
    with ``ceil_mode`` the ceiling, where a last window that would start at or beyond
    ``in + pad_begin`` is dropped (the Caffe and PyTorch rule). With ``ceil_mode`` the last
    window may reach past the padded input: that part never counts.

    ``max`` ignores padding. ``avg`` divides the window's sum by the number of its positions
    inside the padded input (``count_include_pad = True``: padding counts, the region past the
    padded input does not; as Caffe ``AVE`` and PyTorch ``count_include_pad=True``), or by the
    number of real input positions (``count_include_pad = False``).
    ``global_pooling`` pools each whole channel to 1x1 (kernel, strides and pads ignored).

    Equivalents: Caffe ``Pooling`` (always ceil_mode, symmetric pads), ONNX
    ``MaxPool``/``AveragePool``/``GlobalMaxPool``/``GlobalAveragePool``, PyTorch
    ``nn.MaxPool2d``/``nn.AvgPool2d``/``nn.AdaptiveAvgPool2d(1)``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = shapes[0]
        check_nchw(x, "Pool")
        return [(x[0], x[1], *_geometry(attrs, x)[4])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        n, c, h, w = x.shape
        k, s, pb, pe, out = _geometry(attrs, x.shape)
        if attrs["global_pooling"]:
            red = np.max if attrs["mode"] == "max" else np.mean
            return [red(x, axis=(2, 3), keepdims=True).astype(x.dtype)]
        # extra rows/columns that ceil_mode windows reach past the padded input
        extra = [max(0, (out[a] - 1) * s[a] + k[a] - ((h, w)[a] + pb[a] + pe[a]))
                 for a in range(2)]
        padw = ((0, 0), (0, 0), (pb[0], pe[0] + extra[0]), (pb[1], pe[1] + extra[1]))
        if attrs["mode"] == "max":
            xp = np.pad(x, padw, constant_values=-np.inf)
            y = windows(xp, k, s, (1, 1), out).max(axis=(-2, -1))
            return [np.ascontiguousarray(y, dtype=x.dtype)]
        xp = np.pad(x, padw)
        total = windows(xp, k, s, (1, 1), out).sum(axis=(-2, -1), dtype=np.float64)
        mask = np.zeros(xp.shape[2:], dtype=np.float64)
        if attrs["count_include_pad"]:
            mask[:h + pb[0] + pe[0], :w + pb[1] + pe[1]] = 1
        else:
            mask[pb[0]:pb[0] + h, pb[1]:pb[1] + w] = 1
        count = windows(mask, k, s, (1, 1), out).sum(axis=(-2, -1))
        y = total / np.maximum(count, 1)
        return [np.ascontiguousarray(y, dtype=x.dtype)]
