import numpy as np

from nnrosetta.ir.ops.pool import per_axis, spatial_rank, window_out, windows_nd
from nnrosetta.ir.registry import Attr, op


def conv_geometry(attrs, x, w, op_name):
    """(n, kernel, strides, dilations, pad_begin, pad_end) per spatial axis of an
    N, C, *spatial input ``x`` convolved with weight shape ``w`` [*, *, *kernel]."""
    n = spatial_rank(attrs, x, op_name)
    if not attrs.get("kernel_shape"):
        raise ValueError(f"{op_name}: kernel_shape is required")
    k = per_axis(attrs, "kernel_shape", n, 1)
    s = per_axis(attrs, "strides", n, 1)
    d = per_axis(attrs, "dilations", n, 1)
    p = per_axis(attrs, "pads", 2 * n, 0)
    if min(p) < 0:
        raise ValueError(f"pads must be >= 0, got {p}")
    if min(k + s + d) < 1:
        raise ValueError(f"kernel_shape, strides and dilations must be >= 1, got {k}, {s}, {d}")
    if len(w) != n + 2 or list(w[2:]) != k:
        raise ValueError(f"weight shape {tuple(w)} does not match kernel_shape {k}")
    return n, k, s, d, p[:n], p[n:]


@op("Conv", inputs=["X"], outputs=["Y"], attrs={
    "kernel_shape": Attr("ints", doc="one size per spatial axis ([kh, kw] for NCHW, [k] for "
                         "NCW, [kd, kh, kw] for NCDHW)"),
    "strides": Attr("ints", [], "one per spatial axis ([sh, sw]); [] = all 1"),
    "pads": Attr("ints", [], "begin per spatial axis, then end per spatial axis ([top, left, "
                 "bottom, right] in 2-D); [] = no padding"),
    "dilations": Attr("ints", [], "one per spatial axis ([dh, dw]); [] = all 1"),
    "group": Attr("int", 1, "number of channel groups (= channels for depthwise)"),
}, weights={"weight": True, "bias": False}, weight_inputs=["weight", "bias"])
class Conv:
    """Convolution (cross-correlation) of an N, C, *spatial input with 1 to 3 spatial axes
    (NCW, NCHW, NCDHW) and ``weight [O, C/group, *kernel_shape]``.

    In 2-D: ``y[n, o] = bias[o] + sum_{c in group(o), i, j} weight[o, c, i, j] *
    xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]`` where ``xpad`` is the input zero-padded by
    ``pads`` = [top, left, bottom, right] (asymmetric pads allowed); likewise per axis in 1-D
    and 3-D (pads = [begin per axis..., end per axis...]). Output size per spatial axis:
    ``floor((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1``.
    Input channels and output channels are split into ``group`` equal groups; depthwise
    convolution is ``group = C``.

    Equivalents: Caffe ``Convolution`` (2-D), ONNX ``Conv``, PyTorch ``nn.Conv1d/2d/3d``
    (asymmetric pads need an explicit ``F.pad`` first).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = shapes[0]
        w = weights["weight"]
        g = int(attrs["group"])
        n, k, s, d, pb, pe = conv_geometry(attrs, x, w, "Conv")
        if x[1] != w[1] * g or w[0] % g:
            raise ValueError(f"weight {tuple(w)} with group {g} does not fit {x[1]} channels")
        if "bias" in weights and tuple(weights["bias"]) != (w[0],):
            raise ValueError(f"bias shape {tuple(weights['bias'])} != ({w[0]},)")
        out = [window_out(x[2 + a], (k[a] - 1) * d[a] + 1, s[a], pb[a], pe[a], False)
               for a in range(n)]
        return [(x[0], w[0], *out)]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        w = weights["weight"]
        g = int(attrs["group"])
        out = Conv.infer(attrs, [x.shape], {k: v.shape for k, v in weights.items()})[0][2:]
        n, k, s, d, pb, pe = conv_geometry(attrs, x.shape, w.shape, "Conv")
        nb, c = x.shape[:2]
        o = w.shape[0]
        npos, nk = int(np.prod(out)), int(np.prod(k))
        xp = np.pad(x, ((0, 0), (0, 0), *zip(pb, pe, strict=True)))
        win = windows_nd(xp, k, s, d, out)                          # n c *out *k
        win = win.reshape(nb, g, c // g, npos, nk)
        cols = win.transpose(0, 1, 3, 2, 4).reshape(nb, g, npos, -1)
        wm = w.reshape(g, o // g, -1).transpose(0, 2, 1)             # g, c/g*prod(k), o/g
        y = np.matmul(cols, wm.astype(x.dtype, copy=False))        # n g prod(out) o/g
        y = y.transpose(0, 1, 3, 2).reshape(nb, o, *out)
        if "bias" in weights:
            y = y + weights["bias"].astype(x.dtype, copy=False).reshape(1, o, *[1] * n)
        return [np.ascontiguousarray(y, dtype=x.dtype)]
