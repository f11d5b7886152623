"""MaxPool / AveragePool / LpPool (1-D to 3-D; dilations, ceil_mode, count_include_pad,
auto_pad) and GlobalAveragePool / GlobalMaxPool / GlobalLpPool -> IR Pool / LpPool."""

import math

from nnrosetta_frontend_onnx.importers._base import (
    NodeIssue,
    Out,
    Unsupported,
    importer,
    node,
    only_first_output,
)


def _rank(onode, shape) -> int:
    n = len(shape) - 2
    if not 1 <= n <= 3:
        raise Unsupported(f"{onode.label}: input of rank {len(shape)}; the IR pools 1 to 3 "
                          "spatial axes (N, C, D1[, D2[, D3]])")
    return n


def _per_axis(onode, key: str, n: int, fill: int) -> list[int]:
    v = [int(x) for x in onode.attr(key, None) or [fill] * n]
    if len(v) != n:
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: {key} {v} has {len(v)} values for "
                        f"{n} spatial axes")
    return v


def _pads(onode, spatial: list[int], k: list[int], s: list[int], d: list[int]) -> list[int]:
    """pads [begin per axis..., end per axis...] from auto_pad / pads."""
    n = len(spatial)
    mode = onode.attr("auto_pad", "NOTSET") or "NOTSET"
    if mode == "NOTSET":
        p = [int(x) for x in onode.attr("pads", None) or [0] * (2 * n)]
        if len(p) != 2 * n:
            raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: pads {p} need {2 * n} values")
        if min(p) < 0:
            raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: negative pads {p}")
        return p
    if mode == "VALID":
        return [0] * (2 * n)
    if mode not in ("SAME_UPPER", "SAME_LOWER"):
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: unknown auto_pad {mode!r}")
    begin, end = [], []
    for a in range(n):
        out = math.ceil(spatial[a] / s[a])
        total = max((out - 1) * s[a] + (k[a] - 1) * d[a] + 1 - spatial[a], 0)
        small = total // 2
        begin.append(small if mode == "SAME_UPPER" else total - small)
        end.append(total - small if mode == "SAME_UPPER" else small)
    return begin + end


def _window_attrs(onode, ctx) -> dict:
    """kernel_shape, strides, pads, dilations (when not all 1) and ceil_mode."""
    only_first_output(onode, ctx)
    x = ctx.need_shape(onode, onode.input(0))
    n = _rank(onode, x)
    if not onode.attr("kernel_shape"):
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: kernel_shape is required")
    k = _per_axis(onode, "kernel_shape", n, 1)
    s = _per_axis(onode, "strides", n, 1)
    d = _per_axis(onode, "dilations", n, 1)
    attrs = {"kernel_shape": k, "strides": s, "pads": _pads(onode, list(x[2:]), k, s, d),
             "ceil_mode": bool(onode.attr("ceil_mode", 0))}
    if d != [1] * n:
        attrs["dilations"] = d
    return attrs


def _pool(onode, ctx, mode: str) -> Out:
    attrs = {"mode": mode, **_window_attrs(onode, ctx)}
    if mode == "avg":
        attrs["count_include_pad"] = bool(onode.attr("count_include_pad", 0))
    return Out([node(onode, "Pool", [ctx.ref(onode.input(0))], **attrs)])


@importer("MaxPool", since=1, ir_ops=["Pool"])
def max_pool(onode, ctx) -> Out:
    return _pool(onode, ctx, "max")


@importer("AveragePool", since=1, ir_ops=["Pool"])
def average_pool(onode, ctx) -> Out:
    return _pool(onode, ctx, "avg")


@importer("LpPool", since=2, ir_ops=["LpPool"])
def lp_pool(onode, ctx) -> Out:
    p = int(onode.attr("p", 2))
    if p < 1:
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: p {p} must be >= 1")
    return Out([node(onode, "LpPool", [ctx.ref(onode.input(0))], p=p,
                     **_window_attrs(onode, ctx))])


def _global(onode, ctx, ir_op: str, **attrs) -> Out:
    _rank(onode, ctx.need_shape(onode, onode.input(0)))
    return Out([node(onode, ir_op, [ctx.ref(onode.input(0))], global_pooling=True, **attrs)])


@importer("GlobalAveragePool", since=1, ir_ops=["Pool"])
def global_average_pool(onode, ctx) -> Out:
    return _global(onode, ctx, "Pool", mode="avg")


@importer("GlobalMaxPool", since=1, ir_ops=["Pool"])
def global_max_pool(onode, ctx) -> Out:
    return _global(onode, ctx, "Pool", mode="max")


@importer("GlobalLpPool", since=2, ir_ops=["LpPool"])
def global_lp_pool(onode, ctx) -> Out:
    p = int(onode.attr("p", 2))
    if p < 1:
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: p {p} must be >= 1")
    return _global(onode, ctx, "LpPool", p=p)
