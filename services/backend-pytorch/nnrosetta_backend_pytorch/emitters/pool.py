"""Pool (max / avg, 1-D to 3-D, dilations) and LpPool.

PyTorch's own layers where their padding rules are the IR's (symmetric pads of at most half
the kernel; no dilation for averages); otherwise explicit padding, and for averages or Lp
norms that PyTorch's layers cannot express, windows taken with ``Tensor.unfold``."""

import numpy as np

from nnrosetta.ir.ops._spatial import pool_window_issues
from nnrosetta.ir.ops.pool import avg_counts, window_out
from nnrosetta_backend_pytorch.codegen import fmt_ints, fmt_list
from nnrosetta_backend_pytorch.emitters import emitter
from nnrosetta_backend_pytorch.emitters._common import pads_split, torch_pad_arg


def spatial_count(c) -> int | None:
    """The number of spatial axes: from kernel_shape, else (global pooling) the input rank."""
    k = c.attr("kernel_shape") or []
    if k and not c.attr("global_pooling", False):
        return len(k)
    shape = c.in_shape()
    return 2 if shape is None else len(shape) - 2


def check_window(c) -> list[str]:
    return pool_window_issues(c, spatial_count(c))


def _geometry(e):
    n = spatial_count(e)
    k = [int(v) for v in e.attr("kernel_shape")]
    s = [int(v) for v in e.attr("strides") or [1] * n]
    d = [int(v) for v in e.attr("dilations") or [1] * n]
    begin, end = pads_split(e.attr("pads") or [0] * (2 * n))
    return n, k, s, d, begin, end


def pad_arg(begin: list[int], end: list[int]) -> list[int]:
    """Pads per axis -> F.pad's order: last axis first, (begin, end) each."""
    if len(begin) == 2:
        return torch_pad_arg(begin + end)
    out = []
    for b, en in zip(reversed(begin), reversed(end), strict=True):
        out += [b, en]
    return out


def _ceil_extra(shape, k, s, d, begin, end) -> list[int]:
    """How far ceil_mode windows reach past the padded input, per axis."""
    out = [window_out(shape[2 + a], (k[a] - 1) * d[a] + 1, s[a], begin[a], end[a], True)
           for a in range(len(k))]
    return [max(0, (out[a] - 1) * s[a] + (k[a] - 1) * d[a] + 1
                - (shape[2 + a] + begin[a] + end[a])) for a in range(len(k))]


def check(c) -> list[str]:
    out = check_window(c)
    if out or c.attr("global_pooling", False):
        return out
    dilated = any(int(v) != 1 for v in c.attr("dilations") or [])
    if c.attr("mode", "max") == "avg" and (dilated or len(c.attr("kernel_shape")) != 2) \
            and c.in_shape() is None:
        out.append("the input shape is unknown (needed for the average's divisors)")
    return out


def unfold_windows(e, x: str, k, s, d) -> str:
    """``x`` (already padded) as its pooling windows: [N, C, *out, *k]."""
    n = len(k)
    expr = x
    for a in range(n):
        expr += f".unfold({2 + a}, {(k[a] - 1) * d[a] + 1}, {s[a]})"
        if d[a] != 1:
            expr += f"[..., ::{d[a]}]"
    e.assign(expr)
    return "(" + ", ".join(str(-n + a) for a in range(n)) + ")"


def crop(e, want: list[int], got: list[int]) -> None:
    if want != got:
        e.assign(f"{e.out}[:, :, " + ", ".join(f":{w}" for w in want) + "]")


@emitter("Pool", check=check)
def emit(e) -> None:
    mode = e.attr("mode", "max")
    kind = "Max" if mode == "max" else "Avg"
    n = spatial_count(e)
    if e.attr("global_pooling", False):
        e.assign(f"{e.layer(f'nn.Adaptive{kind}Pool{n}d(1)')}({e.x})")
        return
    n, k, s, d, begin, end = _geometry(e)
    ceil = bool(e.attr("ceil_mode", False))
    include = bool(e.attr("count_include_pad", True))
    dilated = any(v != 1 for v in d)
    native = begin == end and all(p <= kk // 2 for p, kk in zip(begin, k, strict=True))
    if native and (mode == "max" or not dilated):
        # PyTorch's own padding rules are the IR's (Caffe's) when pads are symmetric
        args = [f"kernel_size={fmt_ints(k)}", f"stride={fmt_ints(s)}",
                f"padding={fmt_ints(begin)}"]
        if dilated:
            args.append(f"dilation={fmt_ints(d)}")
        args.append(f"ceil_mode={ceil}")
        if mode == "avg":
            args.append(f"count_include_pad={include}")
        e.assign(f"{e.layer(f'nn.{kind}Pool{n}d(' + ', '.join(args) + ')')}({e.x})")
        return
    if mode == "avg" and (dilated or n != 2):
        _unfold_avg(e, k, s, d, begin, end, ceil, include)
        return
    pads = fmt_list(pad_arg(begin, end))
    if mode == "avg" and not include:
        fn = e.helper("avg_pool_exclude_pad")
        e.assign(f"{fn}({e.x}, {fmt_list(k)}, {fmt_list(s)}, {pads}, {ceil})")
    else:
        # asymmetric pads: pad explicitly (zeros count in the average, -inf never wins a max)
        value = ', value=float("-inf")' if mode == "max" else ""
        e.assign(f"F.pad({e.x}, {pads}{value})")
        args = [f"kernel_size={fmt_ints(k)}", f"stride={fmt_ints(s)}"]
        if dilated:
            args.append(f"dilation={fmt_ints(d)}")
        args.append(f"ceil_mode={ceil}")
        e.assign(f"{e.layer(f'nn.{kind}Pool{n}d(' + ', '.join(args) + ')')}({e.out})")
    shape = e.in_shape()
    if ceil and shape is not None and len(shape) == n + 2:
        # the IR drops a last window that starts in the end padding; PyTorch keeps it here
        ext = [(k[a] - 1) * d[a] + 1 for a in range(n)]
        want = [window_out(shape[2 + a], ext[a], s[a], begin[a], end[a], True)
                for a in range(n)]
        got = [window_out(shape[2 + a] + begin[a] + end[a], ext[a], s[a], 0, 0, True)
               for a in range(n)]
        crop(e, want, got)


def _unfold_avg(e, k, s, d, begin, end, ceil, include) -> None:
    """An average PyTorch's AvgPool cannot express (dilation; asymmetric or large pads in
    1-D / 3-D): zero padding, the windows by unfold, their sum over the divisors the IR
    counts (a constant buffer unless every window has all of its positions)."""
    shape = e.in_shape()
    n = len(k)
    extra = _ceil_extra(shape, k, s, d, begin, end) if ceil else [0] * n
    out = list(e.out_shape() or [])[2:] or [
        window_out(shape[2 + a], (k[a] - 1) * d[a] + 1, s[a], begin[a], end[a], ceil)
        for a in range(n)]
    full_end = [end[a] + extra[a] for a in range(n)]
    x = e.x
    if any(begin) or any(full_end):
        e.assign(f"F.pad({e.x}, {fmt_list(pad_arg(begin, full_end))})")
        x = e.out
    dims = unfold_windows(e, x, k, s, d)
    got = [(shape[2 + a] + begin[a] + full_end[a] - (k[a] - 1) * d[a] - 1) // s[a] + 1
           for a in range(n)]
    crop(e, out, got)
    count = avg_counts(shape[2:], k, s, d, begin, end, out, include)
    if np.all(count == np.prod(k)):
        e.assign(f"{e.out}.mean(dim={dims})")
        return
    buf = e.buffer(count.astype(np.float32), "count")
    e.assign(f"{e.out}.sum(dim={dims}) / {buf}")


def check_lp(c) -> list[str]:
    out = check_window(c)
    if not out and not c.attr("global_pooling", False) and c.in_shape() is None:
        out.append("the input shape is unknown (needed for the window geometry)")
    return out


@emitter("LpPool", check=check_lp)
def emit_lp(e) -> None:
    """(sum of |x| ** p over each window) ** (1 / p): torch.linalg.vector_norm over the whole
    spatial extent (global) or over windows taken with unfold after zero padding."""
    p = int(e.attr("p", 2))
    if e.attr("global_pooling", False):
        dims = "(" + ", ".join(str(a) for a in range(2, len(e.in_shape() or (0,) * 4))) + ")"
        e.assign(f"torch.linalg.vector_norm({e.x}, {p}, dim={dims}, keepdim=True)")
        return
    n, k, s, d, begin, end = _geometry(e)
    ceil = bool(e.attr("ceil_mode", False))
    shape = e.in_shape()
    extra = _ceil_extra(shape, k, s, d, begin, end) if ceil else [0] * n
    full_end = [end[a] + extra[a] for a in range(n)]
    x = e.x
    if any(begin) or any(full_end):
        e.assign(f"F.pad({e.x}, {fmt_list(pad_arg(begin, full_end))})")
        x = e.out
    dims = unfold_windows(e, x, k, s, d)
    out = [window_out(shape[2 + a], (k[a] - 1) * d[a] + 1, s[a], begin[a], end[a], ceil)
           for a in range(n)]
    got = [(shape[2 + a] + begin[a] + full_end[a] - (k[a] - 1) * d[a] - 1) // s[a] + 1
           for a in range(n)]
    crop(e, out, got)
    e.assign(f"torch.linalg.vector_norm({e.out}, {p}, dim={dims})")
