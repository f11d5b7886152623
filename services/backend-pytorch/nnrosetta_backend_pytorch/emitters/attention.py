"""Attention as the explicit math: (split heads), concat the past, repeat key/value heads,
matmul, scale, softcap, mask, softmax, matmul, (merge heads)."""

import math

from nnrosetta.ir.ops.attention import allowed_keys, dims
from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter

# ONNX element type of softmax_precision -> torch dtype (0 and 1: float32, the default)
_PRECISION = {10: "torch.float16", 11: "torch.float64"}


def _layout(c):
    """(attrs, dims, mask index or None, past index or None, past length)."""
    attrs = dict(c.attrs)
    n = len(c.node.inputs)
    mask_i = 3 if n in (4, 6) else None
    past_i = n - 2 if n >= 5 else None
    d = dims(attrs, c.in_shape(0), c.in_shape(1), c.in_shape(2))
    past = c.in_shape(past_i)[2] if past_i is not None else 0
    return attrs, d, mask_i, past_i, past


def check(c) -> list[str]:
    n = len(c.node.inputs)
    if n not in (3, 4, 5, 6):
        return [f"Attention takes 3 to 6 inputs, has {n}"]
    if any(c.in_shape(i) is None for i in range(n)):
        return ["the input shapes are unknown (heads and masks are laid out from them)"]
    try:
        _layout(c)
    except ValueError as e:
        return [str(e)]
    return []


def _band(attrs, past: int) -> tuple[int | None, int | None]:
    """The allowed keys as diagonals: key j is visible to query i iff
    ``i + lo <= j <= i + hi`` (None: unbounded), for ``tril(hi).triu(lo)``."""
    left, right = attrs["left_window_size"], attrs["right_window_size"]
    highs = ([past] if attrs["is_causal"] else []) + ([past + right] if right >= 0 else [])
    return (past - left if left >= 0 else None), (min(highs) if highs else None)


@emitter("Attention", check=check)
def emit(e) -> None:
    attrs, (b, hq, hkv, sq, sk, d, dv), mask_i, past_i, past = _layout(e)
    total = past + sk
    count = len(e.outs)

    def var(i: int, hint: str) -> str:
        """Output i's variable when this node has that output and it is read, else a temp."""
        return e.outs[i] if i < count and e.used(i) else tmp(hint)

    def tmp(hint: str) -> str:
        return e._gen.names.new(f"{e.ident}_{hint}")

    q, k, v = e.inputs[:3]
    if len(e.in_shape(0)) == 3:
        e.line("# split the heads: [batch, seq, heads * size] -> [batch, heads, seq, size]")
        split = []
        for name, hint, seq, heads, size in ((q, "q", sq, hq, d), (k, "k", sk, hkv, d),
                                             (v, "v", sk, hkv, dv)):
            split.append(tmp(hint))
            e.assign(f"{name}.reshape({b}, {seq}, {heads}, {size}).transpose(1, 2)",
                     out=split[-1])
        q, k, v = split
    if past_i is not None:
        e.line("# the key/value cache: the past, then this step's keys and values")
        pk, pv = var(1, "present_key"), var(2, "present_value")
        e.assign(f"torch.cat([{e.inputs[past_i]}, {k}], dim=2)", out=pk)
        e.assign(f"torch.cat([{e.inputs[past_i + 1]}, {v}], dim=2)", out=pv)
        k, v = pk, pv
    else:
        for i, val in ((1, k), (2, v)):
            if i < count and e.used(i):
                e.assign(val, out=e.outs[i])
    if hq != hkv:
        rep = hq // hkv
        e.line(f"# grouped-query attention: each key/value head serves {rep} query heads")
        k_rep, v_rep = tmp("k_rep"), tmp("v_rep")
        e.assign(f"{k}.repeat_interleave({rep}, dim=1)", out=k_rep)
        e.assign(f"{v}.repeat_interleave({rep}, dim=1)", out=v_rep)
        k, v = k_rep, v_rep

    scale = attrs["scale"] or 1.0 / math.sqrt(d)
    note = f"  # 1 / sqrt({d})" if not attrs["scale"] else ""
    scores = tmp("scores")
    e.line(f"{scores} = torch.matmul({q}, {k}.transpose(-2, -1)) * {fmt_float(scale)}{note}")
    cap = float(attrs["softcap"])
    if cap > 0:
        e.line(f"{scores} = {fmt_float(cap)} * torch.tanh({scores} / {fmt_float(cap)})"
               "  # softcap")
    mode = int(attrs["qk_matmul_output_mode"])
    wants_qk = count == 4 and e.used(3)
    if wants_qk and mode in (0, 1):
        e.assign(scores, out=e.outs[3])
    wants_y = count == 1 or e.used(0)
    if not wants_y and not (wants_qk and mode in (2, 3)):
        return

    # the additive bias: the mask (padded with -inf to every key), causal / window rules
    allowed = None
    if allowed_keys(attrs, sq, total, past) is not None:
        lo, hi = _band(attrs, past)
        allowed = tmp("allowed")
        expr = f"torch.ones({sq}, {total}, dtype=torch.bool, device={q}.device)"
        if hi is not None:
            expr += f".tril({hi})"
        if lo is not None:
            expr += f".triu({lo})"
        e.line(f"# key j is visible to query i iff {_rule(lo, hi)}")
        e.assign(expr, out=allowed)
    bias = None
    if mask_i is not None:
        bias = e.inputs[mask_i]
        width = e.in_shape(mask_i)[-1]
        name = tmp("bias") if width < total or allowed is not None else bias
        if width < total:
            e.assign(f'F.pad({bias}, [0, {total - width}], value=float("-inf"))', out=name)
            bias = name
        if allowed is not None:
            e.assign(f'torch.where({allowed}, {bias}, float("-inf"))', out=name)
            bias = name
        e.line(f"{scores} = {scores} + {bias}")
    elif allowed is not None:
        e.line(f'{scores} = {scores}.masked_fill(~{allowed}, float("-inf"))')
    if wants_qk and mode == 2:
        e.assign(scores, out=e.outs[3])
    if not wants_y and not (wants_qk and mode == 3):
        return

    # a query that may see no key attends to nothing: zero weights (softmax would give NaN)
    none = None
    if bias is not None:
        none = tmp("none")
        e.line("# queries whose keys are all masked out attend to nothing (zero weights)")
        e.assign(f"torch.isneginf({bias}.amax(dim=-1, keepdim=True))", out=none)
    elif allowed is not None and not allowed_keys(attrs, sq, total, past).any(axis=-1).all():
        none = tmp("none")
        e.line("# queries that may see no key attend to nothing (zero weights)")
        e.assign(f"~{allowed}.any(dim=-1, keepdim=True)", out=none)
    probs = tmp("probs")
    logits = scores if none is None else f"{scores}.masked_fill({none}, 0.0)"
    prec = _PRECISION.get(int(attrs["softmax_precision"]))
    if prec:
        e.assign(f"torch.softmax({logits}, dim=-1, dtype={prec}).float()", out=probs)
    else:
        e.assign(f"torch.softmax({logits}, dim=-1)", out=probs)
    if none is not None:
        e.assign(f"{probs}.masked_fill({none}, 0.0)", out=probs)
    if wants_qk and mode == 3:
        e.assign(probs, out=e.outs[3])

    if wants_y:
        y = e.outs[0]
        if len(e.in_shape(0)) == 3:
            e.assign(f"torch.matmul({probs}, {v}).transpose(1, 2).reshape({b}, {sq}, "
                     f"{hq * dv})  # merge the heads", out=y)
        else:
            e.assign(f"torch.matmul({probs}, {v})", out=y)


def _rule(lo: int | None, hi: int | None) -> str:
    parts = []
    if lo is not None:
        parts.append(f"j >= i {'+' if lo >= 0 else '-'} {abs(lo)}")
    if hi is not None:
        parts.append(f"j <= i {'+' if hi >= 0 else '-'} {abs(hi)}")
    return " and ".join(parts)
