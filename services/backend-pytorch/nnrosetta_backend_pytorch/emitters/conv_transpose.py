from nnrosetta_backend_pytorch.codegen import fmt_ints
from nnrosetta_backend_pytorch.emitters import emitter
from nnrosetta_backend_pytorch.emitters._common import check_2d, pads_split


def check(c) -> list[str]:
    out = check_2d(c, ("kernel_shape", "strides", "dilations", "output_padding"))
    s = c.attr("strides", [1, 1])
    d = c.attr("dilations", [1, 1])
    for a, op_ in enumerate(c.attr("output_padding", [0, 0])):
        if a < len(s) and a < len(d) and op_ >= max(s[a], d[a]):
            out.append(f"output_padding {op_} must be smaller than stride or dilation "
                       "(PyTorch's limit)")
    w = c.weight_shape("weight")
    if w is not None and len(w) != 4:
        out.append(f"weight shape {list(w)}: ConvTranspose needs [I, O/group, kh, kw]")
    return out


def _functional(e) -> None:
    """F.conv_transpose2d with the weight and/or bias computed at run time (a stored one of
    the two becomes an nn.Parameter); asymmetric pads crop the output."""
    wshape = e.param_shape("weight")
    group = int(e.attr("group", 1))
    begin, end = pads_split(e.attr("pads", [0, 0, 0, 0]))
    symmetric = begin == end
    b = e.param("bias", [wshape[1] * group] if wshape else None) if (
        e.dynamic("bias") or e.has_weight("bias")) else None
    args = [e.x, e.param("weight"), b or "None"]
    s, d = e.attr("strides", [1, 1]), e.attr("dilations", [1, 1])
    op_ = e.attr("output_padding", [0, 0])
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
    e.assign(f"F.conv_transpose2d({', '.join(args)})")
    if not symmetric:
        _crop(e, begin, end)


def _crop(e, begin, end) -> None:
    def sl(a: int) -> str:
        return f"{begin[a]}:{-end[a]}" if end[a] else f"{begin[a]}:"
    e.assign(f"{e.out}[:, :, {sl(0)}, {sl(1)}]")


@emitter("ConvTranspose", check=check)
def emit(e) -> None:
    if e.any_dynamic():
        _functional(e)
        return
    w = e.weight("weight")
    b = e.weight("bias")
    group = int(e.attr("group", 1))
    k = e.attr("kernel_shape", list(w.shape[2:]))
    s = e.attr("strides", [1, 1])
    d = e.attr("dilations", [1, 1])
    op_ = e.attr("output_padding", [0, 0])
    begin, end = pads_split(e.attr("pads", [0, 0, 0, 0]))
    symmetric = begin == end
    args = [str(w.shape[0]), str(w.shape[1] * group), f"kernel_size={fmt_ints(k)}",
            f"stride={fmt_ints(s)}", f"padding={fmt_ints(begin if symmetric else [0, 0])}"]
    if any(int(v) != 0 for v in op_):
        args.append(f"output_padding={fmt_ints(op_)}")
    if group != 1:
        args.append(f"groups={group}")
    if b is None:
        args.append("bias=False")
    if any(int(v) != 1 for v in d):
        args.append(f"dilation={fmt_ints(d)}")
    params = {"weight": w} if b is None else {"weight": w, "bias": b}
    layer = e.layer(f"nn.ConvTranspose2d({', '.join(args)})", params)
    e.assign(f"{layer}({e.x})")
    if not symmetric:  # asymmetric pads crop the full output: slice them off
        _crop(e, begin, end)
