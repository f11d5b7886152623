from nnrosetta.ir.ops._spatial import conv_issues
from nnrosetta_backend_pytorch.codegen import fmt_ints, fmt_list
from nnrosetta_backend_pytorch.emitters import emitter
from nnrosetta_backend_pytorch.emitters._common import pads_split
from nnrosetta_backend_pytorch.emitters.pool import pad_arg


def geometry(e):
    """(n, kernel, strides, dilations, pad_begin, pad_end) with [] defaults filled in."""
    k = [int(v) for v in e.attr("kernel_shape")]
    n = len(k)
    s = [int(v) for v in e.attr("strides") or [1] * n]
    d = [int(v) for v in e.attr("dilations") or [1] * n]
    begin, end = pads_split(e.attr("pads") or [0] * (2 * n))
    return n, k, s, d, begin, end


def check(c) -> list[str]:
    return conv_issues(c, "Conv", "[O, I/group, *kernel]")


def _functional(e) -> None:
    """F.conv1d/2d/3d with the weight and/or bias computed at run time (a stored one of the
    two becomes an nn.Parameter)."""
    wshape = e.param_shape("weight")
    group = int(e.attr("group", 1))
    n, _, s, d, begin, end = geometry(e)
    x, padding = e.x, begin
    if begin != end:
        e.assign(f"F.pad({x}, {fmt_list(pad_arg(begin, end))})")
        x, padding = e.out, [0] * n
    b = e.param("bias", [wshape[0]] if wshape else None) if (
        e.dynamic("bias") or e.has_weight("bias")) else None
    args = [x, e.param("weight"), b or "None"]
    if any(int(v) != 1 for v in s):
        args.append(f"stride={fmt_ints(s)}")
    if any(int(v) != 0 for v in padding):
        args.append(f"padding={fmt_ints(padding)}")
    if any(int(v) != 1 for v in d):
        args.append(f"dilation={fmt_ints(d)}")
    if group != 1:
        args.append(f"groups={group}")
    e.assign(f"F.conv{n}d({', '.join(args)})")


@emitter("Conv", check=check)
def emit(e) -> None:
    if e.any_dynamic():
        _functional(e)
        return
    w = e.weight("weight")
    b = e.weight("bias")
    group = int(e.attr("group", 1))
    n, k, s, d, begin, end = geometry(e)
    x = e.x
    padding = begin
    if begin != end:  # asymmetric (e.g. TensorFlow SAME): pad explicitly, then convolve
        e.assign(f"F.pad({x}, {fmt_list(pad_arg(begin, end))})")
        x, padding = e.out, [0] * n
    args = [str(w.shape[1] * group), str(w.shape[0]), f"kernel_size={fmt_ints(k)}",
            f"stride={fmt_ints(s)}", f"padding={fmt_ints(padding)}"]
    if any(int(v) != 1 for v in d):
        args.append(f"dilation={fmt_ints(d)}")
    if group != 1:
        args.append(f"groups={group}")
    if b is None:
        args.append("bias=False")
    params = {"weight": w} if b is None else {"weight": w, "bias": b}
    layer = e.layer(f"nn.Conv{n}d({', '.join(args)})", params)
    e.assign(f"{layer}({x})")
