from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter

_TORCH_MODE = {"reflect": "reflect", "edge": "replicate", "wrap": "circular"}


def _torch_pads(pads: list[int], rank: int, mode: str) -> list[int]:
    """ONNX [x1_b, x2_b, ..., x1_e, x2_e, ...] -> F.pad's [xn_b, xn_e, x(n-1)_b, ...], as few
    trailing dims as the mode allows."""
    begin, end = pads[:rank], pads[rank:]
    used = next((rank - i for i in range(rank) if begin[i] or end[i]), 0)
    if mode != "constant":  # torch pads the last 1..3 dims and never the first
        used = max(used, rank - 2, 1)
    out = []
    for i in range(rank - 1, rank - 1 - used, -1):
        out += [begin[i], end[i]]
    return out


def check(c) -> list[str]:
    shape = c.in_shape()
    pads = [int(p) for p in c.attr("pads", [])]
    mode = c.attr("mode", "constant")
    if shape is None:
        return ["the input shape is unknown"]
    rank = len(shape)
    if len(pads) != 2 * rank:
        return [f"pads {pads} must have {2 * rank} values"]
    if mode == "constant":
        return []
    out = []
    if min(pads) < 0:
        out.append(f"negative pads {pads} in {mode} mode are not supported")
    n = len(_torch_pads(pads, rank, mode)) // 2
    if n > min(3, rank - 1):
        out.append(f"{mode} padding of {n} trailing dims of a rank-{rank} input: PyTorch pads "
                   f"at most the last {min(3, rank - 1)}")
    for i, d in enumerate(shape):
        big = max(pads[i], pads[i + rank])
        if (mode == "reflect" and big >= d) or (mode == "wrap" and big > d):
            out.append(f"{mode} pad {big} on dim {i} of size {d} is too large for PyTorch")
    return out


@emitter("Pad", check=check)
def emit(e) -> None:
    shape = e.in_shape()
    mode = e.attr("mode", "constant")
    tp = _torch_pads([int(p) for p in e.attr("pads")], len(shape), mode)
    if not any(tp):
        e.assign(e.x)
        return
    args = [e.x, "[" + ", ".join(map(str, tp)) + "]"]
    if mode != "constant":
        args.append(f'mode="{_TORCH_MODE[mode]}"')
    elif float(e.attr("value", 0.0)) != 0.0:
        args.append(f"value={fmt_float(e.attr('value'))}")
    e.assign(f"F.pad({', '.join(args)})")
