"""Identity-like ops (no IR node: the output is the input's value) and Cast."""

from nnrosetta_frontend_tf.graph.context import FLOAT_DTYPES
from nnrosetta_frontend_tf.graph.ops._base import Unsupported, tf_op

_CASTS = {"float32": "float32", "float16": "float32", "float64": "float32",
          "bfloat16": "float32", "int32": "int32", "int64": "int64", "bool": "bool"}


@tf_op("Identity", "StopGradient", "Snapshot", "PreventGradient", "EnsureShape",
       "CheckNumerics", "PlaceholderWithDefault")
def identity(node, ctx):
    """Identity(input) and the ops that compute the same at inference."""
    return [ctx.value(node.input(0))]


@tf_op("IdentityN")
def identity_n(node, ctx):
    """IdentityN(input*)."""
    return [ctx.value(t) for t in node.inputs]


@tf_op("Cast", ir_ops=["Cast"])
def cast(node, ctx):
    """Cast(x, DstT): float to float is the same IR value (the IR computes in float32)."""
    x = ctx.act(node.input(0))
    dst = node.attr("DstT", "float32")
    if dst not in _CASTS:
        raise Unsupported(f"{node.label}: cast to {dst} (the IR casts to float32, int32, int64 "
                          "and bool)")
    to = _CASTS[dst]
    if to == "float32" and x.dtype in FLOAT_DTYPES or to == x.dtype:
        return [x]
    return [ctx.emit("Cast", [x.ref], {"to": to}, perm=x.perm, source=True, dtype=to)]
