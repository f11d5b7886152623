import numpy as np

from nnrosetta.ir.ops._spatial import check_nchw, conv_out, pads4, pair, windows
from nnrosetta.ir.registry import Attr, op


@op("Conv", inputs=["X"], outputs=["Y"], attrs={
    "kernel_shape": Attr("ints", doc="[kh, kw]"),
    "strides": Attr("ints", [1, 1], "[sh, sw]"),
    "pads": Attr("ints", [0, 0, 0, 0], "[top, left, bottom, right]"),
    "dilations": Attr("ints", [1, 1], "[dh, dw]"),
    "group": Attr("int", 1, "number of channel groups (= channels for depthwise)"),
}, weights={"weight": True, "bias": False}, weight_inputs=["weight", "bias"])
class Conv:
    """2-D convolution (cross-correlation) of an NCHW input with ``weight [O, C/group, kh, kw]``.

    ``y[n, o] = bias[o] + sum_{c in group(o), i, j} weight[o, c, i, j] *
    xpad[n, c, oh*sh + i*dh, ow*sw + j*dw]`` where ``xpad`` is the input zero-padded by
    ``pads`` = [top, left, bottom, right] (asymmetric pads allowed). Output size per spatial
    axis: ``floor((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1``.
    Input channels and output channels are split into ``group`` equal groups; depthwise
    convolution is ``group = C``.

    Equivalents: Caffe ``Convolution``, ONNX ``Conv``, PyTorch ``nn.Conv2d`` (asymmetric pads
    need an explicit ``F.pad`` first).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = shapes[0]
        check_nchw(x, "Conv")
        w = weights["weight"]
        g = int(attrs["group"])
        k, s, d = pair(attrs, "kernel_shape"), pair(attrs, "strides"), pair(attrs, "dilations")
        pb, pe = pads4(attrs)
        if len(w) != 4 or list(w[2:]) != k:
            raise ValueError(f"weight shape {tuple(w)} does not match kernel_shape {k}")
        if x[1] != w[1] * g or w[0] % g:
            raise ValueError(f"weight {tuple(w)} with group {g} does not fit {x[1]} channels")
        if "bias" in weights and tuple(weights["bias"]) != (w[0],):
            raise ValueError(f"bias shape {tuple(weights['bias'])} != ({w[0]},)")
        out = [conv_out(x[2 + a], k[a], s[a], pb[a], pe[a], d[a]) for a in range(2)]
        return [(x[0], w[0], *out)]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        w = weights["weight"]
        g = int(attrs["group"])
        _, _, oh, ow = Conv.infer(attrs, [x.shape], {k: v.shape for k, v in weights.items()})[0]
        k, s, d = pair(attrs, "kernel_shape"), pair(attrs, "strides"), pair(attrs, "dilations")
        pb, pe = pads4(attrs)
        n, c = x.shape[:2]
        o = w.shape[0]
        xp = np.pad(x, ((0, 0), (0, 0), (pb[0], pe[0]), (pb[1], pe[1])))
        ext = [(k[a] - 1) * d[a] + 1 for a in range(2)]
        win = windows(xp, ext, s, d, (oh, ow))                       # n c oh ow kh kw
        win = win.reshape(n, g, c // g, oh, ow, k[0], k[1])
        cols = win.transpose(0, 1, 3, 4, 2, 5, 6).reshape(n, g, oh * ow, -1)
        wm = w.reshape(g, o // g, -1).transpose(0, 2, 1)             # g, c/g*kh*kw, o/g
        y = np.matmul(cols, wm.astype(x.dtype, copy=False))        # n g oh*ow o/g
        y = y.transpose(0, 1, 3, 2).reshape(n, o, oh, ow)
        if "bias" in weights:
            y = y + weights["bias"].astype(x.dtype, copy=False).reshape(1, o, 1, 1)
        return [np.ascontiguousarray(y, dtype=x.dtype)]
