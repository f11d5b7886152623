"""Attention (opset 23..): the IR's Attention op, inputs Q, K, V [, attn_mask]
[, past_key, past_value]."""

import numpy as np

from nnrosetta.ir.graph import make_ref
from nnrosetta_frontend_onnx.importers._base import NodeIssue, Out, Unsupported, importer, node

# ONNX element types softmax_precision may name that the IR computes (float32 or wider)
_PRECISIONS = {1: "float", 10: "float16", 11: "double"}
_ONNX_INPUTS = ["Q", "K", "V", "attn_mask", "past_key", "past_value", "nonpad_kv_seqlen"]


def _mask(onode, ctx, name: str, out: Out) -> str:
    """The IR ref of an additive float mask. A constant boolean mask (True: attend) becomes
    the float32 constant 0 / -inf it means; one computed at run time cannot be expressed (IR
    values are float32)."""
    if ctx.is_const(name):
        t = ctx.tensor(name, "attn_mask")
        if t.dtype == "bool":
            c = node(onode, "Constant", [], suffix="mask", source=name)
            out.nodes.append(c)
            out.weights[f"{c.name}.value"] = t.map(
                lambda a: np.where(np.asarray(a, dtype=bool), np.float32(0),
                                   np.float32(-np.inf)), dtype="float32")
            return c.name
        if not (t.dtype.startswith("float") or t.dtype == "bfloat16"):
            raise Unsupported(f"{onode.label}: attn_mask has type {t.dtype}; only float "
                              "(additive) and constant bool masks are supported")
    return ctx.ref(name)


@importer("Attention", since=23, ir_ops=["Attention"])
def attention(onode, ctx) -> Out:
    if ctx.has(onode.input(6)):
        raise Unsupported(f"{onode.label}: input nonpad_kv_seqlen (per-batch valid key "
                          "lengths) is not supported")
    for i in range(3):
        if not ctx.has(onode.input(i)):
            raise NodeIssue("BAD_INPUT", f"{onode.label}: input {_ONNX_INPUTS[i]} is missing")
    has_past = ctx.has(onode.input(4)), ctx.has(onode.input(5))
    if has_past[0] != has_past[1]:
        raise NodeIssue("BAD_INPUT", f"{onode.label}: past_key and past_value come together")
    prec = int(onode.attr("softmax_precision", 0) or 0)
    if prec and prec not in _PRECISIONS:
        raise Unsupported(f"{onode.label}: softmax_precision {prec} (ONNX element type) is not "
                          "supported; float (1), float16 (10) and double (11) are")
    out = Out()
    inputs = [ctx.ref(onode.input(i)) for i in range(3)]
    if ctx.has(onode.input(3)):
        inputs.append(_mask(onode, ctx, onode.input(3), out))
    if has_past[0]:
        inputs += [ctx.ref(onode.input(4)), ctx.ref(onode.input(5))]
    outs = list(onode.outputs)
    while len(outs) > 1 and not outs[-1]:
        outs.pop()
    attrs = {
        "is_causal": bool(int(onode.attr("is_causal", 0))),
        "q_num_heads": int(onode.attr("q_num_heads", 0)),
        "kv_num_heads": int(onode.attr("kv_num_heads", 0)),
        "qk_matmul_output_mode": int(onode.attr("qk_matmul_output_mode", 0)),
        "scale": float(onode.attr("scale", 0.0)),
        "softcap": float(onode.attr("softcap", 0.0)),
        "softmax_precision": prec,
        "left_window_size": int(onode.attr("left_window_size", -1)),
        "right_window_size": int(onode.attr("right_window_size", -1)),
        "num_outputs": len(outs),
    }
    if attrs["qk_matmul_output_mode"] not in (0, 1, 2, 3):
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: qk_matmul_output_mode "
                        f"{attrs['qk_matmul_output_mode']} is not 0..3")
    if attrs["scale"] == 0.0 and "scale" in onode.attrs:
        raise Unsupported(f"{onode.label}: scale 0 (every score 0) is not supported; the IR "
                          "reads 0 as the default 1/sqrt(head size)")
    for k in ("left_window_size", "right_window_size"):
        if attrs[k] < -1:
            raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: {k} {attrs[k]} is below -1")
    q = ctx.shape(onode.input(0))
    if q is not None and len(q) == 3 and (attrs["q_num_heads"] < 1 or
                                          attrs["kv_num_heads"] < 1):
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: 3-D inputs need q_num_heads and "
                        "kv_num_heads")
    out.nodes.append(node(onode, "Attention", inputs, **attrs))
    out.outputs = [make_ref(onode.name, i) if o else None for i, o in enumerate(onode.outputs)]
    return out
