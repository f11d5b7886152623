"""MaxPool / AvgPool (2-D and 3-D) -> IR Pool. TF's SAME average excludes the padding."""

from nnrosetta_frontend_tf.graph.ops._base import NodeIssue, Unsupported, ints, tf_op
from nnrosetta_frontend_tf.graph.ops._spatial import spatial_attr, tf_pads, want_layout


@tf_op("MaxPool", "AvgPool", "MaxPool3D", "AvgPool3D", "MaxPoolV2", ir_ops=["Pool"])
def pool(node, ctx):
    """MaxPool(input, ksize, strides, padding) / AvgPool(...)."""
    x = ctx.act(node.input(0))
    rank = x.rank
    if rank not in (4, 5):
        raise NodeIssue("BAD_SHAPE", f"{node.label}: input of rank {rank}")
    perm = want_layout(node, rank)
    x = ctx.layout(x, perm)
    if node.op == "MaxPoolV2":
        ksize = ints(ctx.const(node.input(1), "ksize"))
        strides = ints(ctx.const(node.input(2), "strides"))
        k = ksize[1:-1] if perm is not None else ksize[2:]
        s = strides[1:-1] if perm is not None else strides[2:]
        outer = [ksize[0], ksize[-1], strides[0], strides[-1]] if perm is not None else \
            ksize[:2] + strides[:2]
        if any(o != 1 for o in outer):
            raise Unsupported(f"{node.label}: pooling over the batch or channel dim")
    else:
        k = spatial_attr(node, "ksize", rank)
        s = spatial_attr(node, "strides", rank)
    pads = tf_pads(node, list(x.ir_shape[2:]), k, s, [1] * len(k), rank)
    mode = "max" if node.op.startswith("Max") else "avg"
    attrs = {"mode": mode, "kernel_shape": k, "strides": s, "pads": pads}
    if mode == "avg":
        attrs["count_include_pad"] = False
    return [ctx.emit("Pool", [x.ref], attrs, perm=perm, source=True)]
