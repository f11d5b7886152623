import numpy as np

from nnrosetta.ir.ops._spatial import check_nchw, pads4, pair
from nnrosetta.ir.registry import Attr, op


@op("ConvTranspose", inputs=["X"], outputs=["Y"], attrs={
    "kernel_shape": Attr("ints", doc="[kh, kw]"),
    "strides": Attr("ints", [1, 1], "[sh, sw]"),
    "pads": Attr("ints", [0, 0, 0, 0], "[top, left, bottom, right], cropped from the output"),
    "dilations": Attr("ints", [1, 1], "[dh, dw]"),
    "group": Attr("int", 1, "number of channel groups"),
    "output_padding": Attr("ints", [0, 0], "extra rows/columns added at the bottom/right"),
}, weights={"weight": True, "bias": False}, weight_inputs=["weight", "bias"])
class ConvTranspose:
    """Transposed 2-D convolution ("deconvolution"), the gradient of Conv w.r.t. its input.

    ``weight`` is ``[C, O/group, kh, kw]``. Every input pixel ``x[n, c, h, w]`` adds
    ``x * weight[c, o]`` into the output at ``(h*sh + i*dh - pad_top, w*sw + j*dw - pad_left)``;
    ``pads`` crop the full result, ``output_padding`` extends it at the bottom/right. Output
    size per spatial axis: ``(in - 1)*stride - pad_begin - pad_end + dilation*(k-1) +
    output_padding + 1``.

    Equivalents: Caffe ``Deconvolution``, ONNX ``ConvTranspose``, PyTorch
    ``nn.ConvTranspose2d``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = shapes[0]
        check_nchw(x, "ConvTranspose")
        w = weights["weight"]
        g = int(attrs["group"])
        k, s, d = pair(attrs, "kernel_shape"), pair(attrs, "strides"), pair(attrs, "dilations")
        op_ = pair(attrs, "output_padding")
        pb, pe = pads4(attrs)
        if len(w) != 4 or list(w[2:]) != k:
            raise ValueError(f"weight shape {tuple(w)} does not match kernel_shape {k}")
        if x[1] != w[0] or w[0] % g:
            raise ValueError(f"weight {tuple(w)} with group {g} does not fit {x[1]} channels")
        o = w[1] * g
        if "bias" in weights and tuple(weights["bias"]) != (o,):
            raise ValueError(f"bias shape {tuple(weights['bias'])} != ({o},)")
        out = [(x[2 + a] - 1) * s[a] - pb[a] - pe[a] + d[a] * (k[a] - 1) + op_[a] + 1
               for a in range(2)]
        if min(out) < 1:
            raise ValueError(f"output size {out} is empty")
        return [(x[0], o, *out)]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        w = weights["weight"].astype(x.dtype, copy=False)
        g = int(attrs["group"])
        _, o, oh, ow = ConvTranspose.infer(
            attrs, [x.shape], {k: v.shape for k, v in weights.items()})[0]
        k, s, d = pair(attrs, "kernel_shape"), pair(attrs, "strides"), pair(attrs, "dilations")
        pb, _ = pads4(attrs)
        n, c, h, wd = x.shape
        og = o // g
        # cols[n, g, h*w, og*kh*kw]: each input pixel times the kernel, then scatter-add.
        xm = x.reshape(n, g, c // g, h * wd).transpose(0, 1, 3, 2)
        wm = w.reshape(g, c // g, og * k[0] * k[1])
        cols = np.matmul(xm, wm).reshape(n, g, h, wd, og, k[0], k[1])
        full_h = max((h - 1) * s[0] + (k[0] - 1) * d[0] + 1, pb[0] + oh)
        full_w = max((wd - 1) * s[1] + (k[1] - 1) * d[1] + 1, pb[1] + ow)
        full = np.zeros((n, g, og, full_h, full_w), dtype=x.dtype)
        for i in range(k[0]):
            for j in range(k[1]):
                r0, c0 = i * d[0], j * d[1]
                full[:, :, :, r0:r0 + (h - 1) * s[0] + 1:s[0], c0:c0 + (wd - 1) * s[1] + 1:s[1]] \
                    += cols[:, :, :, :, :, i, j].transpose(0, 1, 4, 2, 3)
        y = full[:, :, :, pb[0]:pb[0] + oh, pb[1]:pb[1] + ow].reshape(n, o, oh, ow)
        if "bias" in weights:
            y = y + weights["bias"].astype(x.dtype, copy=False).reshape(1, o, 1, 1)
        return [np.ascontiguousarray(y, dtype=x.dtype)]
