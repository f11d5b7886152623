"""InstanceNormalization, LayerNormalization, GroupNormalization (composed where the opset
lacks the op or gives it other weights)."""

import numpy as np

from nnrosetta_backend_onnx.emitters import emitter


def _channels(e) -> int:
    for role in ("scale", "bias"):
        if e.has_weight(role):
            return int(np.prod(e.weight_shape(role)))
    return int(e.in_shape()[1])


def _affine(e, role: str, n: int, fill: float) -> str:
    if e.has_weight(role):
        return e.weight(role, [-1])
    return e.const(np.full(n, fill, np.float32), hint=role)


@emitter("InstanceNormalization")
def emit_instance(e) -> None:
    n = _channels(e)
    e.final("InstanceNormalization", [e.x, _affine(e, "scale", n, 1.0),
                                      _affine(e, "bias", n, 0.0)],
            epsilon=float(e.attr("epsilon", 1e-5)))


def _normalize(e, x: str, axes: list[int], eps: float) -> str:
    """(x - mean) / sqrt(var + eps) over axes (ReduceMean with axes as attribute < 18)."""

    def mean(v: str) -> str:
        if e.opset >= 18:
            return e.node("ReduceMean", [v, e.ints(axes, "axes")], {"keepdims": 1})
        return e.node("ReduceMean", [v], {"axes": axes, "keepdims": 1})

    d = e.node("Sub", [x, mean(x)])
    var = mean(e.node("Mul", [d, d]))
    std = e.node("Sqrt", [e.node("Add", [var, e.const(np.float32(eps), hint="epsilon")])])
    return e.node("Div", [d, std])


def _stats(e, axes: list[int], eps: float) -> None:
    """LayerNormalization's Mean and InvStdDev outputs (when read), composed."""

    def mean(v: str, out: str | None = None) -> str:
        outs = [out] if out else None
        if e.opset >= 18:
            return e.node("ReduceMean", [v, e.ints(axes, "stat_axes")], {"keepdims": 1},
                          outputs=outs)
        return e.node("ReduceMean", [v], {"axes": axes, "keepdims": 1}, outputs=outs)

    m = mean(e.x, e.outs[1] if e.used(1) else None)
    if len(e.outs) > 2 and e.used(2):
        d = e.node("Sub", [e.x, m])
        var = mean(e.node("Mul", [d, d]))
        std = e.node("Sqrt", [e.node("Add", [var, e.const(np.float32(eps), hint="stat_eps")])])
        e.node("Reciprocal", [std], outputs=[e.outs[2]])


@emitter("LayerNormalization")
def emit_layer(e) -> None:
    """LayerNormalization (opset 17, with its Mean / InvStdDev outputs when read); before
    17 composed from ReduceMean, Sub, Mul, Sqrt, Div."""
    axis = int(e.attr("axis", -1))
    eps = float(e.attr("epsilon", 1e-5))
    if e.opset >= 17:
        ins = [e.x, e.weight("scale")] + ([e.weight("bias")] if e.has_weight("bias") else [])
        outs = [e.out] + [o if e.used(i) else "" for i, o in enumerate(e.outs) if i]
        while outs[-1] == "":
            outs.pop()
        e.node("LayerNormalization", ins, {"axis": axis, "epsilon": eps}, outputs=outs)
        return
    rank = e.in_rank()
    axis %= rank
    if len(e.outs) > 1:
        _stats(e, list(range(axis, rank)), eps)
    y = _normalize(e, e.x, list(range(axis, rank)), eps)
    if not e.has_weight("bias"):
        e.final("Mul", [y, e.weight("scale")])
        return
    e.final("Add", [e.node("Mul", [y, e.weight("scale")]), e.weight("bias")])


@emitter("GroupNormalization")
def emit_group(e) -> None:
    """GroupNormalization (opset 21: per-channel scale and bias); before 21 (ONNX 18 scales
    per group) composed: Reshape to [N, G, -1], normalize, Reshape back, Mul, Add."""
    g = int(e.attr("num_groups"))
    eps = float(e.attr("epsilon", 1e-5))
    n = _channels(e)
    if e.opset >= 21:
        e.final("GroupNormalization", [e.x, _affine(e, "scale", n, 1.0),
                                       _affine(e, "bias", n, 0.0)],
                num_groups=g, epsilon=eps)
        return
    rank = e.in_rank() or 4
    grouped = e.node("Reshape", [e.x, e.ints([0, g, -1], "grouped")])
    y = _normalize(e, grouped, [2], eps)
    y = e.node("Reshape", [y, e.node("Shape", [e.x], dtype=7)])
    pshape = [n] + [1] * (rank - 2)
    scale = e.weight("scale", pshape) if e.has_weight("scale") else None
    bias = e.weight("bias", pshape) if e.has_weight("bias") else None
    if scale is not None:
        y = e.node("Mul", [y, scale]) if bias is not None else e.final("Mul", [y, scale])
    if bias is not None:
        e.final("Add", [y, bias])
    elif scale is None:
        e.alias(y)
