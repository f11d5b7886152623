"""GatherV2 / Gather (embeddings, index picks) -> IR Gather."""

from nnrosetta_frontend_tf.graph.layout import canon_axis
from nnrosetta_frontend_tf.graph.ops._base import Unsupported, ints, tf_op


@tf_op("GatherV2", "Gather", "ResourceGather", ir_ops=["Gather", "Constant"])
def gather(node, ctx):
    """GatherV2(params, indices, axis, batch_dims=0), in the source layout."""
    if int(node.attr("batch_dims", 0)):
        raise Unsupported(f"{node.label}: batch_dims {node.attr('batch_dims')}")
    params = ctx.source_layout(ctx.act(node.input(0)))
    idx = ctx.value(node.input(1))
    iref = ctx.source_layout(idx).ref if not ctx.is_const(node.input(1)) else \
        ctx.const_act(idx.astype("int64"), key=(node.input(1), "int64")).ref
    axis = 0 if node.op != "GatherV2" else \
        canon_axis(ints(ctx.const(node.input(2), "axis"))[0], params.rank)
    return [ctx.emit("Gather", [params.ref, iref], {"axis": axis}, source=True,
                     dtype=params.dtype)]
