"""Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate -> IR Add, Sub, Mul,
Mean, Max, Min, Concat (inputs brought to one layout first)."""

from __future__ import annotations

from nnrosetta_frontend_tf.layers._base import LayerIssue, Out, OutVal, layer

_OPS = {"Add": "Add", "Subtract": "Sub", "Multiply": "Mul", "Average": "Mean",
        "Maximum": "Max", "Minimum": "Min"}


def elementwise(call, ctx) -> Out:
    """keras.layers.Add / Subtract / Multiply / Average / Maximum / Minimum"""
    if call.n_inputs < 1 or (call.key == "Subtract" and call.n_inputs != 2):
        raise LayerIssue("BAD_INPUTS", f"{call.label}: {call.n_inputs} inputs")
    vals = ctx.aligned(list(range(call.n_inputs)))
    node = ctx.node(call, _OPS[call.key], [v.ref for v in vals])
    main = max(vals, key=lambda v: v.rank)
    return Out([node], outputs=[OutVal(node.name, main.perm)])


for _key, _op in _OPS.items():
    layer(_key, ir_ops=[_op])(elementwise)


@layer("Concatenate", ir_ops=["Concat"])
def concatenate(call, ctx) -> Out:
    """keras.layers.Concatenate(axis)"""
    vals = ctx.aligned(list(range(call.n_inputs)))
    main = vals[0]
    if any(v.rank != main.rank for v in vals):
        raise LayerIssue("BAD_SHAPE", f"{call.label}: inputs of ranks {[v.rank for v in vals]}")
    axis = main.ir_axis(int(call.cfg("axis", -1)))
    node = ctx.node(call, "Concat", [v.ref for v in vals], axis=axis)
    return Out([node], outputs=[OutVal(node.name, main.perm)])
