"""FusedBatchNorm (V1 to V3, inference) -> IR BatchNorm."""

import numpy as np

from nnrosetta_frontend_tf.graph.ops._base import NodeIssue, Unsupported, tf_op
from nnrosetta_frontend_tf.graph.ops._spatial import want_layout


@tf_op("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", ir_ops=["BatchNorm"])
def fused_batch_norm(node, ctx):
    """FusedBatchNormV3(x, scale, offset, mean, variance, epsilon, is_training=False)."""
    if node.attr("is_training", False):
        raise Unsupported(f"{node.label}: is_training=True normalizes with the batch's "
                          "statistics; export the model for inference (training=False)",
                          "UNSUPPORTED_MODE")
    x = ctx.act(node.input(0))
    if x.rank < 2:
        raise NodeIssue("BAD_SHAPE", f"{node.label}: input of rank {x.rank}")
    perm = want_layout(node, x.rank)
    x = ctx.layout(x, perm)
    c = x.ir_shape[1]
    ws = {}
    for i, role in ((1, "scale"), (2, "bias"), (3, "mean"), (4, "var")):
        v = np.asarray(ctx.const(node.input(i), role), np.float32).reshape(-1)
        if v.shape != (c,):
            raise NodeIssue("BAD_SHAPE", f"{node.label}: {role} has {v.size} values for {c} "
                            "channels")
        ws[role] = v
    out = ctx.emit("BatchNorm", [x.ref], {"epsilon": float(node.attr("epsilon", 1e-4))}, ws,
                   perm=perm, source=True)
    return [out, None, None, None, None, None]
