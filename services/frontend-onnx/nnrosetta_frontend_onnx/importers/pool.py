"""MaxPool / AveragePool (2-D; ceil_mode, count_include_pad, auto_pad) and
GlobalAveragePool / GlobalMaxPool -> IR Pool."""

from nnrosetta_frontend_onnx.importers._base import (
    Out,
    Unsupported,
    importer,
    node,
    only_first_output,
)
from nnrosetta_frontend_onnx.importers._spatial import auto_pads, check_2d, two


def _pool(onode, ctx, mode: str) -> Out:
    only_first_output(onode, ctx)
    x = ctx.need_shape(onode, onode.input(0))
    check_2d(onode, x)
    k = two(onode, "kernel_shape", [])
    s = two(onode, "strides", [1, 1])
    d = two(onode, "dilations", [1, 1])
    if d != [1, 1]:
        raise Unsupported(f"{onode.label}: dilations {d} (the IR Pool has none)")
    pads = auto_pads(onode, list(x[2:]), k, s, d)
    attrs = {"mode": mode, "kernel_shape": k, "strides": s, "pads": pads,
             "ceil_mode": bool(onode.attr("ceil_mode", 0))}
    if mode == "avg":
        attrs["count_include_pad"] = bool(onode.attr("count_include_pad", 0))
    return Out([node(onode, "Pool", [ctx.ref(onode.input(0))], **attrs)])


@importer("MaxPool", since=1, ir_ops=["Pool"])
def max_pool(onode, ctx) -> Out:
    return _pool(onode, ctx, "max")


@importer("AveragePool", since=1, ir_ops=["Pool"])
def average_pool(onode, ctx) -> Out:
    return _pool(onode, ctx, "avg")


def _global(onode, ctx, mode: str) -> Out:
    check_2d(onode, ctx.need_shape(onode, onode.input(0)))
    return Out([node(onode, "Pool", [ctx.ref(onode.input(0))], mode=mode,
                     global_pooling=True)])


@importer("GlobalAveragePool", since=1, ir_ops=["Pool"])
def global_average_pool(onode, ctx) -> Out:
    return _global(onode, ctx, "avg")


@importer("GlobalMaxPool", since=1, ir_ops=["Pool"])
def global_max_pool(onode, ctx) -> Out:
    return _global(onode, ctx, "max")
