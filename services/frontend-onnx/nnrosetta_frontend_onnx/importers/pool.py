"""MaxPool / AveragePool / LpPool (1-D to 3-D; dilations, ceil_mode, count_include_pad,
auto_pad) and GlobalAveragePool / GlobalMaxPool / GlobalLpPool -> IR Pool / LpPool."""


from nnrosetta_frontend_onnx.importers._base import (
    NodeIssue,
    Out,
    Unsupported,
    importer,
    node,
    only_first_output,
)
from nnrosetta_frontend_onnx.importers._spatial import auto_pads, per_axis


def _rank(onode, shape) -> int:
    n = len(shape) - 2
    if not 1 <= n <= 3:
        raise Unsupported(f"{onode.label}: input of rank {len(shape)}; the IR pools 1 to 3 "
                          "spatial axes (N, C, D1[, D2[, D3]])")
    return n


def _window_attrs(onode, ctx) -> dict:
    """kernel_shape, strides, pads, dilations (when not all 1) and ceil_mode."""
    only_first_output(onode, ctx)
    x = ctx.need_shape(onode, onode.input(0))
    n = _rank(onode, x)
    if not onode.attr("kernel_shape"):
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: kernel_shape is required")
    k = per_axis(onode, "kernel_shape", n, [1] * n)
    s = per_axis(onode, "strides", n, [1] * n)
    d = per_axis(onode, "dilations", n, [1] * n)
    attrs = {"kernel_shape": k, "strides": s, "pads": auto_pads(onode, list(x[2:]), k, s, d),
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
