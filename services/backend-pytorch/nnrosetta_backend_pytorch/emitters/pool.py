from nnrosetta_backend_pytorch.codegen import fmt_ints, fmt_list
from nnrosetta_backend_pytorch.emitters import emitter
from nnrosetta_backend_pytorch.emitters._common import check_2d, pads_split, torch_pad_arg


def _out(size: int, k: int, s: int, pb: int, pe: int, ceil: bool) -> int:
    span = size + pb + pe - k
    n = (-(-span // s) if ceil else span // s) + 1
    if ceil and (n - 1) * s >= size + pb:
        n -= 1
    return n


def check(c) -> list[str]:
    if c.attr("global_pooling", False):
        return []
    out = check_2d(c, ("kernel_shape", "strides"))
    if not c.attr("kernel_shape"):
        out.append("kernel_shape is required unless global_pooling")
    return out


@emitter("Pool", check=check)
def emit(e) -> None:
    mode = e.attr("mode", "max")
    kind = "Max" if mode == "max" else "Avg"
    if e.attr("global_pooling", False):
        e.assign(f"{e.layer(f'nn.Adaptive{kind}Pool2d(1)')}({e.x})")
        return
    k = [int(v) for v in e.attr("kernel_shape")]
    s = [int(v) for v in e.attr("strides", [1, 1])]
    begin, end = pads_split(e.attr("pads", [0, 0, 0, 0]))
    ceil = bool(e.attr("ceil_mode", False))
    include = bool(e.attr("count_include_pad", True))
    native = begin == end and all(p <= kk // 2 for p, kk in zip(begin, k, strict=True))
    if native:  # PyTorch's own padding rules are the IR's (Caffe's) when pads are symmetric
        args = [f"kernel_size={fmt_ints(k)}", f"stride={fmt_ints(s)}",
                f"padding={fmt_ints(begin)}", f"ceil_mode={ceil}"]
        if mode == "avg":
            args.append(f"count_include_pad={include}")
        e.assign(f"{e.layer(f'nn.{kind}Pool2d(' + ', '.join(args) + ')')}({e.x})")
        return
    pads = fmt_list(torch_pad_arg(begin + end))
    if mode == "avg" and not include:
        fn = e.helper("avg_pool_exclude_pad")
        e.assign(f"{fn}({e.x}, {fmt_list(k)}, {fmt_list(s)}, {pads}, {ceil})")
    else:
        # asymmetric pads: pad explicitly (zeros count in the average, -inf never wins a max)
        value = ', value=float("-inf")' if mode == "max" else ""
        e.assign(f"F.pad({e.x}, {pads}{value})")
        args = [f"kernel_size={fmt_ints(k)}", f"stride={fmt_ints(s)}", f"ceil_mode={ceil}"]
        e.assign(f"{e.layer(f'nn.{kind}Pool2d(' + ', '.join(args) + ')')}({e.out})")
    shape = e.in_shape()
    if ceil and shape is not None and len(shape) == 4:
        # the IR drops a last window that starts in the end padding; PyTorch keeps it here
        want = [_out(shape[2 + a], k[a], s[a], begin[a], end[a], True) for a in range(2)]
        got = [_out(shape[2 + a] + begin[a] + end[a], k[a], s[a], 0, 0, True) for a in range(2)]
        if want != got:
            e.assign(f"{e.out}[:, :, :{want[0]}, :{want[1]}]")
