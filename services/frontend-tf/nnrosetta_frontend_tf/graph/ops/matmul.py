"""MatMul / BatchMatMul: by a constant matrix -> IR FullyConnected (a following bias add
folded in; after a Flatten of a channels-first activation the weight rows are permuted
instead of transposing the activation); otherwise IR MatMul."""

import numpy as np

from nnrosetta_frontend_tf.graph.layout import Act, transposed
from nnrosetta_frontend_tf.graph.ops._base import tf_op
from nnrosetta_frontend_tf.graph.ops._spatial import bias_follower


def _flags(node) -> tuple[bool, bool]:
    if node.op == "MatMul":
        return bool(node.attr("transpose_a", False)), bool(node.attr("transpose_b", False))
    return bool(node.attr("adj_x", False)), bool(node.attr("adj_y", False))


def _swap_last(act: Act) -> Act:
    r = act.rank
    return transposed(act, (*range(r - 2), r - 1, r - 2))


@tf_op("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3",
       ir_ops=["FullyConnected", "MatMul", "Transpose"])
def matmul(node, ctx):
    """MatMul(a, b, transpose_a, transpose_b) / BatchMatMulV2(x, y, adj_x, adj_y)."""
    ta, tb = _flags(node)
    a_t, b_t = node.input(0), node.input(1)
    if ctx.is_const(b_t) and not ctx.is_const(a_t) and not ta:
        w = np.asarray(ctx.const(b_t))
        while w.ndim > 2 and w.shape[0] == 1:
            w = w[0]
        a = ctx.value(a_t)
        if w.ndim == 2 and w.dtype.kind == "f" and a.rank >= 2:
            return _dense(node, ctx, a, w.T if tb else w)
    a = ctx.act(a_t)
    b = ctx.act(b_t)
    if ta:
        a = _swap_last(a)
    if tb:
        b = _swap_last(b)
    a = ctx.source_layout(a)
    b = ctx.source_layout(b)
    return [ctx.emit("MatMul", [a.ref, b.ref], source=True)]


def _dense(node, ctx, a: Act, w: np.ndarray):
    """a @ w with w [in, out] constant."""
    if a.feat is not None:
        w = w[a.feat]
    else:
        a = ctx.source_layout(a)
    weights = {"weight": np.ascontiguousarray(w.T)}
    attrs = {"axis": a.rank - 1}
    probe = ctx.emit("FullyConnected", [a.ref], attrs, weights, source=True)
    follow = bias_follower(ctx, f"{node.name}:0", probe, probe.rank - 1)
    if follow is None:
        return [probe]
    ctx.rollback_last()
    nxt, bias = follow
    out = ctx.emit("FullyConnected", [a.ref], attrs, {**weights, "bias": bias},
                   source=nxt.name, source_op=nxt.op)
    ctx.fuse(nxt, [out])
    return [out]
