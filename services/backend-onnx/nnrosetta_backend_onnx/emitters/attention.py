"""Attention: ONNX Attention from opset 23 (window sizes: 25); below, the same computation in
primitive ops (Reshape, Transpose, Concat, MatMul, Mul, Tanh, Add, Softmax, Where, IsInf)."""

import math

import numpy as np
from onnx import TensorProto

from nnrosetta.ir.ops.attention import allowed_keys, dims
from nnrosetta_backend_onnx.emitters import emitter

BOOL = TensorProto.BOOL
_CAST = {10: TensorProto.FLOAT16, 11: TensorProto.DOUBLE}   # softmax_precision -> Cast to


def _layout(c):
    """(attrs, dims, mask index or None, past index or None, past length)."""
    attrs = dict(c.attrs)
    n = len(c.ir_node.inputs)
    mask_i = 3 if n in (4, 6) else None
    past_i = n - 2 if n >= 5 else None
    d = dims(attrs, c.in_shape(0), c.in_shape(1), c.in_shape(2))
    past = c.in_shape(past_i)[2] if past_i is not None else 0
    return attrs, d, mask_i, past_i, past


def check(c) -> list[str]:
    n = len(c.ir_node.inputs)
    if n not in (3, 4, 5, 6):
        return [f"Attention takes 3 to 6 inputs, has {n}"]
    if any(c.in_shape(i) is None for i in range(n)):
        return ["the input shapes are unknown (heads and masks are laid out from them)"]
    try:
        _layout(c)
    except ValueError as e:
        return [str(e)]
    return []


def _native(attrs, opset: int) -> bool:
    windowed = attrs["left_window_size"] >= 0 or attrs["right_window_size"] >= 0
    # onnxruntime 1.32's Attention kernel returns a qk_matmul_output that differs from the
    # ONNX definition (masked entries): write the computation out when that output is used
    if int(attrs.get("num_outputs", 1)) >= 4:
        return False
    return opset >= 25 or (opset >= 23 and not windowed)


@emitter("Attention", check=check)
def emit(e) -> None:
    attrs, layout, mask_i, past_i, past = _layout(e)
    if _native(attrs, e.opset):
        _emit_native(e, attrs, layout, mask_i, past_i, past)
    else:
        _emit_decomposed(e, attrs, layout, mask_i, past_i, past)


def _padded_mask(e, mask_i, total: int) -> str:
    """The mask with its last dim padded with -inf to every key (onnxruntime wants that)."""
    mask = e.inputs[mask_i]
    shape = tuple(e.in_shape(mask_i))
    if shape[-1] < total:
        fill = e.const(np.full(shape[:-1] + (total - shape[-1],), -np.inf, np.float32),
                       hint="mask_pad")
        mask = e.node("Concat", [mask, fill], {"axis": -1})
    return mask


def _emit_native(e, attrs, layout, mask_i, past_i, past) -> None:
    ins = list(e.inputs[:3])
    ins.append(_padded_mask(e, mask_i, past + layout[4]) if mask_i is not None else "")
    if past_i is not None:
        ins += [e.inputs[past_i], e.inputs[past_i + 1]]
    while ins[-1] == "":
        ins.pop()
    a = {"is_causal": int(bool(attrs["is_causal"])),
         "qk_matmul_output_mode": int(attrs["qk_matmul_output_mode"]) or None,
         "scale": float(attrs["scale"]) or None,
         "softcap": float(attrs["softcap"]) or None,
         "softmax_precision": int(attrs["softmax_precision"]) or None}
    if len(e.in_shape(0)) == 3:
        a["q_num_heads"], a["kv_num_heads"] = layout[1], layout[2]
    for k in ("left_window_size", "right_window_size"):
        if attrs[k] >= 0:
            a[k] = int(attrs[k])
    if not a["is_causal"]:
        a["is_causal"] = None
    e.node("Attention", ins, a, outputs=e.outs)


def _emit_decomposed(e, attrs, layout, mask_i, past_i, past) -> None:
    b, hq, hkv, sq, sk, d, dv = layout
    total = past + sk
    count = len(e.outs)
    three_d = len(e.in_shape(0)) == 3

    def to(i: int, op: str, inputs, attrs=None, dtype=TensorProto.FLOAT):
        """A node writing IR output i."""
        return e.node(op, inputs, attrs, outputs=[e.outs[i]], dtype=dtype)

    q, k, v = e.inputs[:3]
    if three_d:   # [b, seq, heads * size] -> [b, heads, seq, size]
        q, k, v = (e.node("Transpose", [e.node("Reshape", [x, e.ints([b, s, h, size], hint)])],
                          {"perm": [0, 2, 1, 3]})
                   for x, hint, s, h, size in ((q, "q_shape", sq, hq, d),
                                               (k, "k_shape", sk, hkv, d),
                                               (v, "v_shape", sk, hkv, dv)))
    if past_i is not None:
        pk, pv = e.inputs[past_i], e.inputs[past_i + 1]
        k = to(1, "Concat", [pk, k], {"axis": 2}) if count > 1 else \
            e.node("Concat", [pk, k], {"axis": 2})
        v = to(2, "Concat", [pv, v], {"axis": 2}) if count > 2 else \
            e.node("Concat", [pv, v], {"axis": 2})
    else:
        if count > 1:
            to(1, "Identity", [k])
        if count > 2:
            to(2, "Identity", [v])
    if hq != hkv:   # grouped-query attention: h0, h0, h1, h1, ...
        rep = hq // hkv

        def repeat(x, size, hint):
            x5 = e.node("Reshape", [x, e.ints([b, hkv, 1, total, size], hint + "5d")])
            x5 = e.node("Expand", [x5, e.ints([b, hkv, rep, total, size], hint + "_rep")])
            return e.node("Reshape", [x5, e.ints([b, hq, total, size], hint + "4d")])

        k, v = repeat(k, d, "k"), repeat(v, dv, "v")

    scale = float(attrs["scale"]) or 1.0 / math.sqrt(d)
    root = e.const(np.float32(math.sqrt(scale)), hint="sqrt_scale")   # as ONNX: on Q and K
    kt = e.node("Transpose", [k], {"perm": [0, 1, 3, 2]})
    scores = e.node("MatMul", [e.node("Mul", [q, root]), e.node("Mul", [kt, root])])
    cap = float(attrs["softcap"])
    if cap > 0:
        c = e.const(np.float32(cap), hint="softcap")
        scores = e.node("Mul", [e.node("Tanh", [e.node("Div", [scores, c])]), c])
    mode = int(attrs["qk_matmul_output_mode"])
    if count == 4 and mode in (0, 1):
        to(3, "Identity", [scores])

    # the additive bias: mask (padded with -inf to every key) + causal / window rules
    allowed = allowed_keys(attrs, sq, total, past)
    rule = None if allowed is None else e.const(
        np.where(allowed, np.float32(0), np.float32(-np.inf)), hint="causal_bias")
    bias = None
    if mask_i is not None:
        bias = _padded_mask(e, mask_i, total)
        if rule is not None:
            bias = e.node("Add", [bias, rule])
    else:
        bias = rule
    none = None
    if bias is not None:
        scores = e.node("Add", [scores, bias])
        if mask_i is not None:   # rows whose every key is masked out attend to nothing
            if e.opset >= 18:
                top = e.node("ReduceMax", [bias, e.ints([-1], "axes")], {"keepdims": 1})
            else:
                top = e.node("ReduceMax", [bias], {"axes": [-1], "keepdims": 1})
            none = e.node("IsInf", [top], {"detect_positive": 0}, dtype=BOOL)
        elif not allowed.any(axis=-1).all():
            none = e.const(~allowed.any(axis=-1, keepdims=True), np.bool_, hint="no_keys")
    if count == 4 and mode == 2:
        to(3, "Identity", [scores])
    zero = e.const(np.float32(0), hint="zero") if none is not None else None
    logits = scores if none is None else e.node("Where", [none, zero, scores])
    prec = _CAST.get(int(attrs["softmax_precision"]))
    if prec:
        logits = e.node("Cast", [logits], {"to": prec}, dtype=prec)
        probs = e.node("Cast", [e.node("Softmax", [logits], {"axis": -1}, dtype=prec)],
                       {"to": TensorProto.FLOAT})
    else:
        probs = e.node("Softmax", [logits], {"axis": -1})
    if none is not None:
        probs = e.node("Where", [none, zero, probs])
    if count == 4 and mode == 3:
        to(3, "Identity", [probs])
    if three_d:   # [b, heads, seq, size] -> [b, seq, heads * size]
        y = e.node("Transpose", [e.node("MatMul", [probs, v])], {"perm": [0, 2, 1, 3]})
        to(0, "Reshape", [y, e.ints([b, sq, hq * dv], "y_shape")])
    else:
        to(0, "MatMul", [probs, v])
