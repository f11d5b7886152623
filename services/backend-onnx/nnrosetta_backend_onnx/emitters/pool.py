"""Pool (1-D to 3-D, dilations) and LpPool."""

import numpy as np

from nnrosetta.ir.ops._spatial import pool_window_issues
from nnrosetta.ir.ops.pool import avg_counts
from nnrosetta_backend_onnx.emitters import emitter
from nnrosetta_backend_onnx.emitters._common import ints


def _n(c) -> int:
    """The number of spatial axes: from kernel_shape, else (global) the input rank."""
    k = c.attr("kernel_shape") or []
    if k and not c.attr("global_pooling", False):
        return len(k)
    rank = c.in_rank()
    return 2 if rank is None else rank - 2


def check_window(c) -> list[str]:
    out = pool_window_issues(c, _n(c))
    if out or c.attr("global_pooling", False):
        return out
    if c.attr("ceil_mode", False) and (c.in_shape() is None or c.out_shape() is None):
        out.append("ceil_mode needs the input shape (shape inference failed)")
    return out


def _needs_conv(c) -> bool:
    """Dilations, or pads of a kernel's size or more: the ones-kernel Conv form."""
    k = ints(c.attr("kernel_shape"))
    pads = ints(c.attr("pads") or [0] * (2 * len(k)))
    return any(int(v) != 1 for v in c.attr("dilations") or []) or not _fits(k, pads)


def check(c) -> list[str]:
    out = check_window(c)
    if not out and c.attr("mode", "max") == "avg" and not c.attr("global_pooling", False) \
            and _needs_conv(c) and (c.in_shape() is None or c.out_shape() is None):
        out.append("a dilated (or widely padded) average needs the input shape (shape "
                   "inference failed)")
    return out


def _geometry(e):
    """(n, kernel, strides, dilations, pads [begin..., end...], ceil change of the end pads).

    With ceil_mode the end padding written is what the last window reaches: more than the
    IR's where that window runs past the padded input (ext > 0), less where the IR's end
    padding holds a whole window that ceil_mode drops (ext < 0), so that ONNX's floor rule
    gives the IR's output size."""
    n = _n(e)
    k = ints(e.attr("kernel_shape"))
    s = ints(e.attr("strides") or [1] * n)
    d = ints(e.attr("dilations") or [1] * n)
    p = ints(e.attr("pads") or [0] * (2 * n))
    ext = [0] * n
    if e.attr("ceil_mode", False):
        shape, want = e.in_shape(), e.out_shape()
        ext = [max(0, (want[2 + a] - 1) * s[a] + (k[a] - 1) * d[a] + 1
                   - (shape[2 + a] + p[a])) - p[n + a] for a in range(n)]
    return n, k, s, d, p, ext


def _fits(k, pads) -> bool:
    """Whether onnxruntime takes these pads (each below the kernel size on its axis)."""
    n = len(k)
    return all(pads[a] < k[a] and pads[n + a] < k[a] for a in range(n))


def _window_sum(e, x: str, k, s, d, pads) -> str:
    """Per-channel window sums: a Conv with a ones kernel, one group per channel."""
    c = int(e.in_shape()[1])
    w = e.const(np.ones([c, 1, *k], np.float32), hint="ones")
    return e.node("Conv", [x, w], {"kernel_shape": k, "strides": s, "dilations": d,
                                   "pads": pads, "group": c})


@emitter("Pool", check=check)
def emit(e) -> None:
    """MaxPool / AveragePool / GlobalMaxPool / GlobalAveragePool, always with ceil_mode=0.

    ceil_mode is written out as extra end padding: ONNX's shape inference keeps a last window
    that starts inside the end padding while onnxruntime (like the IR, Caffe and PyTorch)
    drops it, so a model with ceil_mode=1 would not mean one thing. The extra region never
    counts: max ignores padding; an average that counts the real padding gets that padding
    as an explicit zero Pad first and then excludes the (extra) pooling padding. A dilated
    average (AveragePool has dilations only from opset 19) is a ones-kernel depthwise Conv
    divided by the IR's per-window counts."""
    mode = e.attr("mode", "max")
    if e.attr("global_pooling", False):
        e.final("GlobalMaxPool" if mode == "max" else "GlobalAveragePool", [e.x])
        return
    n, k, s, d, p, ext = _geometry(e)
    begin, end = p[:n], p[n:]
    include = bool(e.attr("count_include_pad", True))
    dilated = any(v != 1 for v in d)
    padded = begin + [end[a] + ext[a] for a in range(n)]
    x = e.x
    attrs = {"kernel_shape": k, "strides": s}
    fits = _fits(k, padded)
    if mode == "max":
        if not fits:  # onnxruntime wants pads below the kernel size: pad explicitly
            x = e.node("Pad", [x, e.ints([0, 0, *padded[:n], 0, 0, *padded[n:]], "pads"),
                               e.const(np.float32(-np.inf), hint="neg_inf")])
            padded = [0] * (2 * n)
        attrs["pads"] = padded
        if dilated:
            attrs["dilations"] = d
        e.final("MaxPool", [x], **attrs)
        return
    if dilated or not fits:
        total = _window_sum(e, x, k, s, d, padded)
        shape = e.in_shape()
        count = avg_counts(shape[2:], k, s, d, begin, end, list(e.out_shape()[2:]), include)
        e.final("Div", [total, e.const(count.astype(np.float32), hint="count")])
        return
    if not include or not any(v > 0 for v in ext):
        attrs["pads"] = padded
        attrs["count_include_pad"] = int(include)
    else:
        kept = [end[a] + min(ext[a], 0) for a in range(n)]
        if any(begin) or any(kept):
            x = e.node("Pad", [x, e.ints([0, 0, *begin, 0, 0, *kept], "pads")])
        attrs["pads"] = [0] * n + [max(v, 0) for v in ext]
        attrs["count_include_pad"] = 0
    e.final("AveragePool", [x], **attrs)


def check_lp(c) -> list[str]:
    out = check_window(c)
    if not out and not c.attr("global_pooling", False) and _needs_conv(c) \
            and c.in_shape() is None:
        out.append("a dilated (or widely padded) LpPool needs the input shape (shape "
                   "inference failed)")
    return out


@emitter("LpPool", check=check_lp)
def emit_lp(e) -> None:
    """GlobalLpPool / LpPool (ceil_mode as extra end padding, which holds zeros and adds
    nothing); with dilations: (ones-kernel depthwise Conv of |x| ** p) ** (1 / p)."""
    p = int(e.attr("p", 2))
    if e.attr("global_pooling", False):
        shape = e.in_shape()
        if e.opset >= 22 and shape is not None:
            # the same as one whole-extent window; onnxruntime has no GlobalLpPool-22 kernel
            e.final("LpPool", [e.x], kernel_shape=[int(v) for v in shape[2:]], p=p)
        else:
            e.final("GlobalLpPool", [e.x], p=p)
        return
    n, k, s, d, pads, ext = _geometry(e)
    padded = pads[:n] + [pads[n + a] + ext[a] for a in range(n)]
    if all(v == 1 for v in d) and _fits(k, padded):  # else the Conv form
        e.final("LpPool", [e.x], kernel_shape=k, strides=s, pads=padded, p=p)
        return
    if p == 2:
        powered = e.node("Mul", [e.x, e.x])
    else:
        powered = e.node("Pow", [e.node("Abs", [e.x]), e.const(np.float32(p), hint="p")])
    total = _window_sum(e, powered, k, s, d, padded)
    if p == 2:
        e.final("Sqrt", [total])
    else:
        e.final("Pow", [total, e.const(np.float32(1.0 / p), hint="inv_p")])
