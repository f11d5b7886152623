"""Conv1D/2D/3D, DepthwiseConv1D/2D, SeparableConv1D/2D, Conv1D/2D/3DTranspose -> IR Conv /
ConvTranspose (channels-first, weights OIHW), then the layer's activation."""

from __future__ import annotations

import numpy as np

from nnrosetta_frontend_tf import compat
from nnrosetta_frontend_tf.layers._base import (
    LayerCall,
    LayerIssue,
    Out,
    OutVal,
    Tensor,
    Unsupported,
    float_weight,
    layer,
    tuple_of,
    window_pads,
)
from nnrosetta_frontend_tf.layers.activations import IR_OPS as ACT_OPS
from nnrosetta_frontend_tf.layers.activations import with_activation

_RANK = {"1D": 1, "2D": 2, "3D": 3}


def _n(call: LayerCall) -> int:
    return _RANK[call.key.removesuffix("Transpose")[-2:]]


def _var(call: LayerCall, *names: str):
    return float_weight(call, call.layer, *names)


def _geometry(call: LayerCall, ctx, n: int):
    fmt = call.cfg("data_format") or "channels_last"
    x = ctx.channels_first(0, fmt)
    if x.rank != n + 2:
        raise LayerIssue("BAD_SHAPE", f"{call.label}: input of rank {x.rank}, expected "
                         f"{n + 2}")
    k = tuple_of(call.cfg("kernel_size"), n, "kernel_size", call)
    s = tuple_of(call.cfg("strides", 1), n, "strides", call)
    d = tuple_of(call.cfg("dilation_rate", 1), n, "dilation_rate", call)
    return x, k, s, d


def _bias(call: LayerCall, node_name: str, weights: dict, size: int) -> None:
    if call.cfg("use_bias", True):
        b = _var(call, "bias")
        weights[f"{node_name}.bias"] = Tensor((size,), lambda: compat.to_numpy(b).reshape(-1))


def _finish(call, ctx, nodes, weights, x) -> Out:
    nodes, ref = with_activation(ctx, call, nodes, nodes[-1].name, x.rank, 1)
    return Out(nodes, weights, [OutVal(ref, x.perm)])


@layer("Conv1D", "Conv2D", "Conv3D", ir_ops=["Conv", *ACT_OPS])
def conv(call, ctx) -> Out:
    """keras.layers.Conv1D/2D/3D(filters, kernel_size, strides, padding, dilation_rate,
    groups, activation, use_bias)"""
    n = _n(call)
    x, k, s, d = _geometry(call, ctx, n)
    groups = int(call.cfg("groups", 1) or 1)
    pads = window_pads(call, call.cfg("padding", "valid"), x.shape[2:], k, s, d)
    kvar = _var(call, "kernel")
    kshape = tuple(int(v) for v in kvar.shape)          # (*k, in / groups, out)
    out_ch = kshape[-1]
    perm = (n + 1, n, *range(n))
    node = ctx.node(call, "Conv", [x.ref], kernel_shape=k, strides=s, pads=pads,
                    dilations=d, group=groups)
    weights = {f"{node.name}.weight": Tensor(
        tuple(kshape[p] for p in perm), lambda: np.transpose(compat.to_numpy(kvar), perm))}
    _bias(call, node.name, weights, out_ch)
    return _finish(call, ctx, [node], weights, x)


@layer("DepthwiseConv1D", "DepthwiseConv2D", ir_ops=["Conv", *ACT_OPS])
def depthwise_conv(call, ctx) -> Out:
    """keras.layers.DepthwiseConv1D/2D(kernel_size, strides, padding, depth_multiplier,
    dilation_rate, activation, use_bias)"""
    n = _n(call)
    x, k, s, d = _geometry(call, ctx, n)
    pads = window_pads(call, call.cfg("padding", "valid"), x.shape[2:], k, s, d)
    node, weights = _depthwise(call, ctx, x, k, s, d, pads, "", ("kernel", "depthwise_kernel"))
    _bias(call, node.name, weights, weights[f"{node.name}.weight"].shape[0])
    return _finish(call, ctx, [node], weights, x)


def _depthwise(call, ctx, x, k, s, d, pads, suffix, names):
    n = len(k)
    kvar = _var(call, *names)
    kshape = tuple(int(v) for v in kvar.shape)          # (*k, in, multiplier)
    cin, mult = kshape[-2], kshape[-1]
    if cin != x.shape[1]:
        raise LayerIssue("BAD_SHAPE", f"{call.label}: kernel for {cin} channels, input has "
                         f"{x.shape[1]}")
    node = ctx.node(call, "Conv", [x.ref], suffix, kernel_shape=k, strides=s, pads=pads,
                    dilations=d, group=cin)

    def load(kvar=kvar):
        w = compat.to_numpy(kvar).reshape(*kshape[:n], cin * mult)
        return np.transpose(w, (n, *range(n)))[:, None]

    return node, {f"{node.name}.weight": Tensor((cin * mult, 1, *k), load)}


@layer("SeparableConv1D", "SeparableConv2D", ir_ops=["Conv", *ACT_OPS])
def separable_conv(call, ctx) -> Out:
    """keras.layers.SeparableConv1D/2D(filters, kernel_size, strides, padding,
    depth_multiplier, dilation_rate, activation, use_bias): a depthwise then a 1x1 Conv"""
    n = _n(call)
    x, k, s, d = _geometry(call, ctx, n)
    pads = window_pads(call, call.cfg("padding", "valid"), x.shape[2:], k, s, d)
    dw, weights = _depthwise(call, ctx, x, k, s, d, pads, "depthwise", ("depthwise_kernel",))
    pvar = _var(call, "pointwise_kernel")
    pshape = tuple(int(v) for v in pvar.shape)          # (*1, in * multiplier, filters)
    out_ch = pshape[-1]
    pw = ctx.node(call, "Conv", [dw.name], kernel_shape=[1] * n)

    def load(pvar=pvar):
        w = compat.to_numpy(pvar).reshape(pshape[-2], out_ch)
        return w.T.reshape(out_ch, pshape[-2], *([1] * n))

    weights[f"{pw.name}.weight"] = Tensor((out_ch, pshape[-2], *([1] * n)), load)
    _bias(call, pw.name, weights, out_ch)
    return _finish(call, ctx, [dw, pw], weights, x)


def transpose_geometry(padding: str, size: int, k: int, s: int, d: int,
                       output_padding: int | None) -> tuple[int, int, int]:
    """(pad_begin, pad_end, output_padding) of an IR ConvTranspose equal to Keras'
    ConvNDTranspose along one axis (Keras' output length; TensorFlow crops 'same' padding
    with the odd pixel at the end)."""
    k_eff = (k - 1) * d + 1
    full = (size - 1) * s + k_eff
    if output_padding is None:
        out = size * s + max(k_eff - s, 0) if padding == "valid" else size * s
    else:
        pad = k_eff // 2 if padding == "same" else 0
        out = (size - 1) * s + k_eff - 2 * pad + output_padding
    begin = max(0, (size - 1) * s + k_eff - out) // 2 if padding == "same" else 0
    rest = full - begin
    if rest >= out:
        return begin, rest - out, 0
    return begin, 0, out - rest


@layer("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
       ir_ops=["ConvTranspose", *ACT_OPS])
def conv_transpose(call, ctx) -> Out:
    """keras.layers.Conv1D/2D/3DTranspose(filters, kernel_size, strides, padding,
    output_padding, dilation_rate, activation, use_bias)"""
    n = _n(call)
    x, k, s, d = _geometry(call, ctx, n)
    padding = str(call.cfg("padding", "valid")).lower()
    if padding not in ("valid", "same"):
        raise Unsupported(f"{call.label}: padding {padding!r}")
    op = call.cfg("output_padding")
    ops = tuple_of(op, n, "output_padding", call) if op is not None else [None] * n
    geo = [transpose_geometry(padding, x.shape[2 + i], k[i], s[i], d[i], ops[i])
           for i in range(n)]
    kvar = _var(call, "kernel")
    kshape = tuple(int(v) for v in kvar.shape)          # (*k, out, in)
    out_ch = kshape[-2]
    perm = (n + 1, n, *range(n))
    attrs = {"kernel_shape": k, "strides": s, "dilations": d,
             "pads": [g[0] for g in geo] + [g[1] for g in geo]}
    if any(g[2] for g in geo):
        attrs["output_padding"] = [g[2] for g in geo]
    node = ctx.node(call, "ConvTranspose", [x.ref], **attrs)
    weights = {f"{node.name}.weight": Tensor(
        tuple(kshape[p] for p in perm), lambda: np.transpose(compat.to_numpy(kvar), perm))}
    _bias(call, node.name, weights, out_ch)
    return _finish(call, ctx, [node], weights, x)
