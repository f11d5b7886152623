"""Max/AveragePooling1D/2D/3D and GlobalAverage/MaxPooling1D/2D/3D -> IR Pool / ReduceMean /
ReduceMax (TensorFlow's 'same' average pooling leaves the padding out of the count)."""

from __future__ import annotations

from nnrosetta_frontend_tf.layers._base import (
    LayerIssue,
    Out,
    OutVal,
    layer,
    tuple_of,
    window_pads,
)

_DIMS = ("1D", "2D", "3D")


def _n(call) -> int:
    return int(call.key[-2])


def _pool(call, ctx, mode: str) -> Out:
    n = _n(call)
    x = ctx.channels_first(0, call.cfg("data_format") or "channels_last")
    if x.rank != n + 2:
        raise LayerIssue("BAD_SHAPE", f"{call.label}: input of rank {x.rank}, expected {n + 2}")
    k = tuple_of(call.cfg("pool_size", 2), n, "pool_size", call)
    strides = call.cfg("strides")
    s = tuple_of(strides, n, "strides", call) if strides is not None else list(k)
    pads = window_pads(call, call.cfg("padding", "valid"), x.shape[2:], k, s, [1] * n)
    attrs = {"mode": mode, "kernel_shape": k, "strides": s, "pads": pads}
    if mode == "avg":
        attrs["count_include_pad"] = False
    node = ctx.node(call, "Pool", [x.ref], **attrs)
    return Out([node], outputs=[OutVal(node.name, x.perm)])


@layer(*(f"MaxPooling{d}" for d in _DIMS), ir_ops=["Pool"])
def max_pool(call, ctx) -> Out:
    """keras.layers.MaxPooling1D/2D/3D(pool_size, strides, padding)"""
    return _pool(call, ctx, "max")


@layer(*(f"AveragePooling{d}" for d in _DIMS), ir_ops=["Pool"])
def avg_pool(call, ctx) -> Out:
    """keras.layers.AveragePooling1D/2D/3D(pool_size, strides, padding)"""
    return _pool(call, ctx, "avg")


def _global(call, ctx, mode: str) -> Out:
    n = _n(call)
    x = ctx.channels_first(0, call.cfg("data_format") or "channels_last")
    if x.rank != n + 2:
        raise LayerIssue("BAD_SHAPE", f"{call.label}: input of rank {x.rank}, expected {n + 2}")
    if call.cfg("keepdims", False):
        node = ctx.node(call, "Pool", [x.ref], mode=mode, global_pooling=True)
        return Out([node], outputs=[OutVal(node.name, x.perm)])
    op = "ReduceMean" if mode == "avg" else "ReduceMax"
    node = ctx.node(call, op, [x.ref], axes=list(range(2, n + 2)), keepdims=False)
    return Out([node], outputs=[OutVal(node.name, None)])


@layer(*(f"GlobalAveragePooling{d}" for d in _DIMS), ir_ops=["Pool", "ReduceMean"])
def global_avg_pool(call, ctx) -> Out:
    """keras.layers.GlobalAveragePooling1D/2D/3D(keepdims)"""
    return _global(call, ctx, "avg")


@layer(*(f"GlobalMaxPooling{d}" for d in _DIMS), ir_ops=["Pool", "ReduceMax"])
def global_max_pool(call, ctx) -> Out:
    """keras.layers.GlobalMaxPooling1D/2D/3D(keepdims)"""
    return _global(call, ctx, "max")
