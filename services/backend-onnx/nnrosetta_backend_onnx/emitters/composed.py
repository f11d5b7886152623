"""Activations that newer opsets have as one op and older ones as a composition."""

import math

import numpy as np

from nnrosetta_backend_onnx.emitters import emitter


@emitter("Mish")
def emit_mish(e) -> None:
    """Mish (opset 18), else x * tanh(softplus(x))."""
    if e.opset >= 18:
        e.final("Mish", [e.x])
        return
    t = e.node("Tanh", [e.node("Softplus", [e.x])])
    e.final("Mul", [e.x, t])


@emitter("HardSwish")
def emit_hardswish(e) -> None:
    """HardSwish (opset 14), else x * HardSigmoid(x; 1/6, 0.5)."""
    if e.opset >= 14:
        e.final("HardSwish", [e.x])
        return
    h = e.node("HardSigmoid", [e.x], {"alpha": 1.0 / 6.0, "beta": 0.5})
    e.final("Mul", [e.x, h])


@emitter("Gelu")
def emit_gelu(e) -> None:
    """Gelu (opset 20), else the exporters' composition (Erf, or Tanh for approximate)."""
    approx = str(e.attr("approximate", "none"))
    if e.opset >= 20:
        e.final("Gelu", [e.x], approximate=approx)
        return
    if approx == "tanh":
        x3 = e.node("Mul", [e.node("Mul", [e.x, e.x]), e.x])
        inner = e.node("Add", [e.x, e.node("Mul", [x3, e.const(np.float32(0.044715), hint="k")])])
        inner = e.node("Mul", [inner, e.const(np.float32(math.sqrt(2 / math.pi)), hint="c")])
        t = e.node("Tanh", [inner])
    else:
        t = e.node("Erf", [e.node("Div", [e.x, e.const(np.float32(math.sqrt(2)), hint="sqrt2")])])
    one = e.node("Add", [t, e.const(np.float32(1.0), hint="one")])
    half = e.node("Mul", [e.x, e.const(np.float32(0.5), hint="half")])
    e.final("Mul", [half, one])


@emitter("Clip")
def emit_clip(e) -> None:
    """Clip with min / max inputs (an infinite bound is left out; a bound given as a weight
    or computed at run time is passed as a scalar)."""
    lo, hi = float(e.attr("min", -math.inf)), float(e.attr("max", math.inf))
    ins = [e.x, "" if math.isinf(lo) else e.const(np.float32(lo), hint="min"),
           "" if math.isinf(hi) else e.const(np.float32(hi), hint="max")]
    for i, role in ((1, "min"), (2, "max")):
        if e.has_weight(role):
            ins[i] = e.weight(role, [])
    while ins[-1] == "":
        ins.pop()
    e.final("Clip", ins)
