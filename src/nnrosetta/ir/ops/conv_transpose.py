import itertools

import numpy as np

from nnrosetta.ir.ops.conv import conv_geometry
from nnrosetta.ir.ops.pool import per_axis
from nnrosetta.ir.registry import Attr, op


def _output_padding(attrs, n):
    op_ = per_axis(attrs, "output_padding", n, 0)
    if len(op_) != n:
        raise ValueError(f"output_padding {op_} has {len(op_)} values for {n} spatial axes")
    if min(op_) < 0:
        raise ValueError(f"output_padding must be >= 0, got {op_}")
    return op_


@op("ConvTranspose", inputs=["X"], outputs=["Y"], attrs={
    "kernel_shape": Attr("ints", doc="one size per spatial axis ([kh, kw] for NCHW, [k] for "
                         "NCW, [kd, kh, kw] for NCDHW)"),
    "strides": Attr("ints", [], "one per spatial axis ([sh, sw]); [] = all 1"),
    "pads": Attr("ints", [], "begin per spatial axis, then end per spatial axis ([top, left, "
                 "bottom, right] in 2-D), cropped from the output; [] = no cropping"),
    "dilations": Attr("ints", [], "one per spatial axis ([dh, dw]); [] = all 1"),
    "group": Attr("int", 1, "number of channel groups"),
    "output_padding": Attr("ints", [], "one per spatial axis: extra positions added at the "
                           "end (bottom/right in 2-D); [] = all 0"),
}, weights={"weight": True, "bias": False}, weight_inputs=["weight", "bias"])
class ConvTranspose:
    """Transposed convolution ("deconvolution"), the gradient of Conv w.r.t. its input, of an
    N, C, *spatial input with 1 to 3 spatial axes (NCW, NCHW, NCDHW).

    ``weight`` is ``[C, O/group, *kernel_shape]``. In 2-D every input pixel ``x[n, c, h, w]``
    adds ``x * weight[c, o]`` into the output at ``(h*sh + i*dh - pad_top, w*sw + j*dw -
    pad_left)`` (likewise per axis in 1-D and 3-D); ``pads`` crop the full result,
    ``output_padding`` extends it at the end of each axis. Output size per spatial axis:
    ``(in - 1)*stride - pad_begin - pad_end + dilation*(k-1) + output_padding + 1``.

    Equivalents: Caffe ``Deconvolution`` (2-D), ONNX ``ConvTranspose``, PyTorch
    ``nn.ConvTranspose1d/2d/3d``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = shapes[0]
        w = weights["weight"]
        g = int(attrs["group"])
        n, k, s, d, pb, pe = conv_geometry(attrs, x, w, "ConvTranspose")
        op_ = _output_padding(attrs, n)
        if x[1] != w[0] or w[0] % g:
            raise ValueError(f"weight {tuple(w)} with group {g} does not fit {x[1]} channels")
        o = w[1] * g
        if "bias" in weights and tuple(weights["bias"]) != (o,):
            raise ValueError(f"bias shape {tuple(weights['bias'])} != ({o},)")
        out = [(x[2 + a] - 1) * s[a] - pb[a] - pe[a] + d[a] * (k[a] - 1) + op_[a] + 1
               for a in range(n)]
        if min(out) < 1:
            raise ValueError(f"output size {out} is empty")
        return [(x[0], o, *out)]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        w = weights["weight"].astype(x.dtype, copy=False)
        g = int(attrs["group"])
        _, o, *out = ConvTranspose.infer(
            attrs, [x.shape], {k: v.shape for k, v in weights.items()})[0]
        n, k, s, d, pb, _ = conv_geometry(attrs, x.shape, w.shape, "ConvTranspose")
        nb, c, *sp = x.shape
        og = o // g
        npos = int(np.prod(sp))
        # cols[n, g, *in, og, *k]: each input position times the kernel, then scatter-add.
        xm = x.reshape(nb, g, c // g, npos).transpose(0, 1, 3, 2)
        wm = w.reshape(g, c // g, og * int(np.prod(k)))
        cols = np.matmul(xm, wm).reshape(nb, g, *sp, og, *k)
        full = [max((sp[a] - 1) * s[a] + (k[a] - 1) * d[a] + 1, pb[a] + out[a])
                for a in range(n)]
        acc = np.zeros((nb, g, og, *full), dtype=x.dtype)
        for pos in itertools.product(*(range(kk) for kk in k)):
            dst = tuple(slice(pos[a] * d[a], pos[a] * d[a] + (sp[a] - 1) * s[a] + 1, s[a])
                        for a in range(n))
            src = cols[(slice(None), slice(None), *[slice(None)] * n, slice(None), *pos)]
            acc[(slice(None), slice(None), slice(None), *dst)] += np.moveaxis(src, 2 + n, 2)
        crop = tuple(slice(pb[a], pb[a] + out[a]) for a in range(n))
        y = acc[(slice(None), slice(None), slice(None), *crop)].reshape(nb, o, *out)
        if "bias" in weights:
            y = y + weights["bias"].astype(x.dtype, copy=False).reshape(1, o, *[1] * n)
        return [np.ascontiguousarray(y, dtype=x.dtype)]
