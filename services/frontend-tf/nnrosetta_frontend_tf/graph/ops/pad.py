"""Pad / PadV2 / MirrorPad -> IR Pad (pads permuted to the layout)."""

import numpy as np

from nnrosetta_frontend_tf.graph.ops._base import NodeIssue, Unsupported, scalar, tf_op


@tf_op("Pad", "PadV2", "MirrorPad", ir_ops=["Pad"])
def pad(node, ctx):
    """Pad(input, paddings [rank, 2]) / PadV2(input, paddings, constant_values) /
    MirrorPad(input, paddings, mode=REFLECT)."""
    x = ctx.act(node.input(0))
    p = np.asarray(ctx.const(node.input(1), "paddings")).astype(np.int64)
    if p.shape != (x.rank, 2):
        raise NodeIssue("BAD_SHAPE", f"{node.label}: paddings of shape {list(p.shape)} for "
                        f"rank {x.rank}")
    order = list(range(x.rank)) if x.perm is None else list(x.perm)
    attrs = {"pads": [int(p[d, 0]) for d in order] + [int(p[d, 1]) for d in order]}
    if node.op == "PadV2":
        attrs["value"] = scalar(ctx.const(node.input(2), "constant_values"), node,
                                "constant_values")
    if node.op == "MirrorPad":
        mode = node.attr("mode", "REFLECT")
        if mode != "REFLECT":
            raise Unsupported(f"{node.label}: mode {mode} (the IR pads constant, reflect, "
                              "edge and wrap)")
        attrs["mode"] = "reflect"
    return [ctx.emit("Pad", [x.ref], attrs, perm=x.perm, source=True)]
