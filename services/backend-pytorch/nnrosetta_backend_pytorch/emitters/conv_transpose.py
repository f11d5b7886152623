from nnrosetta.ir.ops._spatial import conv_issues
from nnrosetta_backend_pytorch.codegen import fmt_ints
from nnrosetta_backend_pytorch.emitters import emitter
from nnrosetta_backend_pytorch.emitters.conv import geometry


def check(c) -> list[str]:
    out = conv_issues(c, "ConvTranspose", "[I, O/group, *kernel]", ("output_padding",))
    if out:
        return out
    n = len(c.attr("kernel_shape"))
    s = c.attr("strides") or [1] * n
    d = c.attr("dilations") or [1] * n
    for a, op_ in enumerate(c.attr("output_padding") or []):
        if op_ >= max(s[a], d[a]):
            out.append(f"output_padding {op_} must be smaller than stride or dilation "
                       "(PyTorch's limit)")
    return out


def _output_padding(e, n: int) -> list[int]:
    return [int(v) for v in e.attr("output_padding") or [0] * n]


def _functional(e) -> None:
    """F.conv_transpose1d/2d/3d with the weight and/or bias computed at run time (a stored
    one of the two becomes an nn.Parameter); asymmetric pads crop the output."""
    wshape = e.param_shape("weight")
    group = int(e.attr("group", 1))
    n, _, s, d, begin, end = geometry(e)
    symmetric = begin == end
    b = e.param("bias", [wshape[1] * group] if wshape else None) if (
        e.dynamic("bias") or e.has_weight("bias")) else None
    args = [e.x, e.param("weight"), b or "None"]
    op_ = _output_padding(e, n)
    if any(int(v) != 1 for v in s):
        args.append(f"stride={fmt_ints(s)}")
    if symmetric and any(int(v) != 0 for v in begin):
        args.append(f"padding={fmt_ints(begin)}")
    if any(int(v) != 0 for v in op_):
        args.append(f"output_padding={fmt_ints(op_)}")
    if group != 1:
        args.append(f"groups={group}")
    if any(int(v) != 1 for v in d):
        args.append(f"dilation={fmt_ints(d)}")
    e.assign(f"F.conv_transpose{n}d({', '.join(args)})")
    if not symmetric:
        _crop(e, begin, end)


def _crop(e, begin, end) -> None:
    def sl(a: int) -> str:
        return f"{begin[a]}:{-end[a]}" if end[a] else f"{begin[a]}:"
    e.assign(f"{e.out}[:, :, {', '.join(sl(a) for a in range(len(begin)))}]")


@emitter("ConvTranspose", check=check)
def emit(e) -> None:
    if e.any_dynamic():
        _functional(e)
        return
    w = e.weight("weight")
    b = e.weight("bias")
    group = int(e.attr("group", 1))
    n, k, s, d, begin, end = geometry(e)
    op_ = _output_padding(e, n)
    symmetric = begin == end
    args = [str(w.shape[0]), str(w.shape[1] * group), f"kernel_size={fmt_ints(k)}",
            f"stride={fmt_ints(s)}", f"padding={fmt_ints(begin if symmetric else [0] * n)}"]
    if any(int(v) != 0 for v in op_):
        args.append(f"output_padding={fmt_ints(op_)}")
    if group != 1:
        args.append(f"groups={group}")
    if b is None:
        args.append("bias=False")
    if any(int(v) != 1 for v in d):
        args.append(f"dilation={fmt_ints(d)}")
    params = {"weight": w} if b is None else {"weight": w, "bias": b}
    layer = e.layer(f"nn.ConvTranspose{n}d({', '.join(args)})", params)
    e.assign(f"{layer}({e.x})")
    if not symmetric:  # asymmetric pads crop the full output: slice them off
        _crop(e, begin, end)
