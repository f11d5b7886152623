"""Conv2D / Conv3D / DepthwiseConv2dNative / Conv2DBackpropInput -> IR Conv / ConvTranspose
(a following BiasAdd is folded into the bias)."""

import numpy as np

from nnrosetta_frontend_tf.graph.ops._base import NodeIssue, Unsupported, ints, tf_op
from nnrosetta_frontend_tf.graph.ops._spatial import (
    bias_follower,
    spatial_attr,
    tf_pads,
    want_layout,
)


def _filter(node, ctx, rank, to_oihw):
    """(weights dict, bound inputs, filter source shape): a constant filter is converted to
    IR order at import time; a computed one is transposed at run time and bound."""
    t = node.input(1)
    if ctx.is_const(t):
        f = np.asarray(ctx.const(t))
        if f.ndim != rank:
            raise NodeIssue("BAD_SHAPE", f"{node.label}: filter of shape {list(f.shape)} for a "
                            f"rank-{rank} input")
        return {"weight": to_oihw(f)}, [], f.shape
    f = ctx.act(t)
    if node.op != "Conv2D" and node.op != "Conv3D":
        raise Unsupported(f"{node.label}: the filter must be a constant", "DYNAMIC_INPUT")
    p = (rank - 1, rank - 2, *range(rank - 2))
    return {}, [ctx.layout(f, p).ref], f.src_shape


def _finish(node, ctx, op, x, attrs, weights, bound, perm):
    """Emit the conv, folding a following per-channel bias add into it."""
    out_t = f"{node.name}:0"
    probe = ctx.emit(op, [x.ref, *bound], attrs, weights, perm=perm, source=True)
    follow = bias_follower(ctx, out_t, probe, 1 if perm is None else perm[1])
    if follow is None or bound:
        return [probe]
    ctx.rollback_last()
    nxt, bias = follow
    out = ctx.emit(op, [x.ref], attrs, {**weights, "bias": bias}, perm=perm, source=nxt.name,
                   source_op=nxt.op)
    ctx.fuse(nxt, [out])
    return [out]


@tf_op("Conv2D", "Conv3D", ir_ops=["Conv", "Transpose"])
def conv(node, ctx):
    """Conv2D(input, filter [kh, kw, in/group, out]) / Conv3D (any padding, dilations,
    groups when in/group < in)."""
    x = ctx.act(node.input(0))
    rank = x.rank
    if rank not in (4, 5):
        raise NodeIssue("BAD_SHAPE", f"{node.label}: input of rank {rank}")
    perm = want_layout(node, rank)
    x = ctx.layout(x, perm)
    ws, bound, fshape = _filter(node, ctx, rank,
                                lambda f: f.transpose(rank - 1, rank - 2, *range(rank - 2)))
    cin = x.ir_shape[1]
    if cin % int(fshape[-2]):
        raise NodeIssue("BAD_SHAPE", f"{node.label}: {cin} input channels do not split into "
                        f"groups of {fshape[-2]}")
    k = [int(d) for d in fshape[:-2]]
    s = spatial_attr(node, "strides", rank)
    d = spatial_attr(node, "dilations", rank)
    pads = tf_pads(node, list(x.ir_shape[2:]), k, s, d, rank)
    attrs = {"kernel_shape": k, "strides": s, "pads": pads, "dilations": d,
             "group": cin // int(fshape[-2])}
    return _finish(node, ctx, "Conv", x, attrs, ws, bound, perm)


@tf_op("DepthwiseConv2dNative", ir_ops=["Conv", "Transpose"])
def depthwise(node, ctx):
    """DepthwiseConv2dNative(input, filter [kh, kw, in, multiplier]): a Conv with
    group = in (output channel c * multiplier + m)."""
    x = ctx.act(node.input(0))
    if x.rank != 4:
        raise NodeIssue("BAD_SHAPE", f"{node.label}: input of rank {x.rank}")
    perm = want_layout(node, 4)
    x = ctx.layout(x, perm)

    def oihw(f):
        kh, kw, c, m = f.shape
        return f.reshape(kh, kw, c * m).transpose(2, 0, 1)[:, None]

    ws, bound, fshape = _filter(node, ctx, 4, oihw)
    if fshape[2] != x.ir_shape[1]:
        raise NodeIssue("BAD_SHAPE", f"{node.label}: filter for {fshape[2]} channels, input "
                        f"has {x.ir_shape[1]}")
    k = [int(v) for v in fshape[:2]]
    s = spatial_attr(node, "strides", 4)
    d = spatial_attr(node, "dilations", 4)
    pads = tf_pads(node, list(x.ir_shape[2:]), k, s, d, 4)
    attrs = {"kernel_shape": k, "strides": s, "pads": pads, "dilations": d,
             "group": int(fshape[2])}
    return _finish(node, ctx, "Conv", x, attrs, ws, bound, perm)


@tf_op("Conv2DBackpropInput", "Conv3DBackpropInputV2", ir_ops=["ConvTranspose"])
def conv_transpose(node, ctx):
    """Conv2DBackpropInput(input_sizes, filter [kh, kw, out, in], out_backprop): the
    transposed convolution (tf.nn.conv2d_transpose, Keras Conv2DTranspose)."""
    x = ctx.act(node.input(2))
    rank = x.rank
    perm = want_layout(node, rank)
    x = ctx.layout(x, perm)
    f = np.asarray(ctx.const(node.input(1), "filter"))
    sizes = ints(ctx.const(node.input(0), "input_sizes"))
    out_sp = sizes[1:-1] if perm is not None else sizes[2:]
    k = [int(v) for v in f.shape[:-2]]
    s = spatial_attr(node, "strides", rank)
    d = spatial_attr(node, "dilations", rank)
    if node.attr("padding") == "EXPLICIT":
        raise Unsupported(f"{node.label}: EXPLICIT padding")
    pb, pe, op_ = [], [], []
    for a in range(rank - 2):
        full = (x.ir_shape[2 + a] - 1) * s[a] + (k[a] - 1) * d[a] + 1
        total = full - out_sp[a] if node.attr("padding") == "SAME" else 0
        if node.attr("padding") == "SAME":
            total = max(total, 0)
        b = total // 2
        e = full - b - out_sp[a]
        extra = max(0, -e)
        pb.append(b)
        pe.append(max(e, 0))
        op_.append(extra)
    if any(o >= max(sa, da) for o, sa, da in zip(op_, s, d, strict=True)):
        raise NodeIssue("BAD_SHAPE", f"{node.label}: output size {out_sp} does not fit")
    w = f.transpose(rank - 1, rank - 2, *range(rank - 2))
    attrs = {"kernel_shape": k, "strides": s, "pads": pb + pe, "dilations": d, "group": 1,
             "output_padding": op_}
    return _finish(node, ctx, "ConvTranspose", x, attrs, {"weight": w}, [], perm)
