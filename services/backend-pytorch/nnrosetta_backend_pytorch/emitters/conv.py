from nnrosetta_backend_pytorch.codegen import fmt_ints, fmt_list
from nnrosetta_backend_pytorch.emitters import emitter
from nnrosetta_backend_pytorch.emitters._common import check_2d, pads_split, torch_pad_arg


def check(c) -> list[str]:
    out = check_2d(c, ("kernel_shape", "strides", "dilations"))
    w = c.weight_shape("weight")
    if w is not None and len(w) != 4:
        out.append(f"weight shape {list(w)}: Conv needs [O, I/group, kh, kw]")
    return out


def _functional(e) -> None:
    """F.conv2d with the weight and/or bias computed at run time (a stored one of the two
    becomes an nn.Parameter)."""
    wshape = e.param_shape("weight")
    group = int(e.attr("group", 1))
    begin, end = pads_split(e.attr("pads", [0, 0, 0, 0]))
    x, padding = e.x, begin
    if begin != end:
        e.assign(f"F.pad({x}, {fmt_list(torch_pad_arg(begin + end))})")
        x, padding = e.out, [0, 0]
    b = e.param("bias", [wshape[0]] if wshape else None) if (
        e.dynamic("bias") or e.has_weight("bias")) else None
    args = [x, e.param("weight"), b or "None"]
    s, d = e.attr("strides", [1, 1]), e.attr("dilations", [1, 1])
    if any(int(v) != 1 for v in s):
        args.append(f"stride={fmt_ints(s)}")
    if any(int(v) != 0 for v in padding):
        args.append(f"padding={fmt_ints(padding)}")
    if any(int(v) != 1 for v in d):
        args.append(f"dilation={fmt_ints(d)}")
    if group != 1:
        args.append(f"groups={group}")
    e.assign(f"F.conv2d({', '.join(args)})")


@emitter("Conv", check=check)
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
    begin, end = pads_split(e.attr("pads", [0, 0, 0, 0]))
    x = e.x
    padding = begin
    if begin != end:  # asymmetric (e.g. TensorFlow SAME): pad explicitly, then convolve
        e.assign(f"F.pad({x}, {fmt_list(torch_pad_arg(begin + end))})")
        x, padding = e.out, [0, 0]
    args = [str(w.shape[1] * group), str(w.shape[0]), f"kernel_size={fmt_ints(k)}",
            f"stride={fmt_ints(s)}", f"padding={fmt_ints(padding)}"]
    if any(int(v) != 1 for v in d):
        args.append(f"dilation={fmt_ints(d)}")
    if group != 1:
        args.append(f"groups={group}")
    if b is None:
        args.append("bias=False")
    params = {"weight": w} if b is None else {"weight": w, "bias": b}
    layer = e.layer(f"nn.Conv2d({', '.join(args)})", params)
    e.assign(f"{layer}({x})")
