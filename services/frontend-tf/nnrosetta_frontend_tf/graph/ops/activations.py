"""Elementwise unary ops (activations, math functions) and Softmax / LogSoftmax."""

from nnrosetta_frontend_tf.graph.layout import ir_axis
from nnrosetta_frontend_tf.graph.ops._base import tf_op

# TF op -> (IR op, attributes)
UNARY = {
    "Relu": ("Relu", {}),
    "Relu6": ("Clip", {"min": 0.0, "max": 6.0}),
    "Elu": ("Elu", {"alpha": 1.0}),
    "Selu": ("Selu", {}),
    "Sigmoid": ("Sigmoid", {}),
    "Tanh": ("Tanh", {}),
    "Softplus": ("Softplus", {}),
    "Softsign": ("Softsign", {}),
    "Exp": ("Exp", {}),
    "Log": ("Log", {}),
    "Sqrt": ("Sqrt", {}),
    "Rsqrt": ("Power", {"power": -0.5}),
    "Square": ("Power", {"power": 2.0}),
    "Reciprocal": ("Reciprocal", {}),
    "Inv": ("Reciprocal", {}),
    "Neg": ("Neg", {}),
    "Abs": ("Abs", {}),
    "Floor": ("Floor", {}),
    "Ceil": ("Ceil", {}),
    "Round": ("Round", {}),
    "Sign": ("Sign", {}),
    "Erf": ("Erf", {}),
    "Sin": ("Sin", {}),
    "Cos": ("Cos", {}),
    "Tan": ("Tan", {}),
    "Asin": ("Asin", {}),
    "Acos": ("Acos", {}),
    "Atan": ("Atan", {}),
    "Sinh": ("Sinh", {}),
    "Cosh": ("Cosh", {}),
    "Asinh": ("Asinh", {}),
    "Acosh": ("Acosh", {}),
    "Atanh": ("Atanh", {}),
    "LogicalNot": ("Not", {}),
    "IsNan": ("IsNaN", {}),
}
_BOOL_OUT = {"LogicalNot", "IsNan"}


@tf_op(*UNARY, ir_ops=sorted({v[0] for v in UNARY.values()}))
def unary(node, ctx):
    """Relu(x), Relu6(x), Sigmoid(x), Rsqrt(x), ...: the same op in any layout."""
    x = ctx.act(node.input(0))
    op, attrs = UNARY[node.op]
    return [ctx.emit(op, [x.ref], dict(attrs), perm=x.perm, source=True,
                     dtype="bool" if node.op in _BOOL_OUT else x.dtype)]


@tf_op("LeakyRelu", ir_ops=["LeakyRelu"])
def leaky_relu(node, ctx):
    """LeakyRelu(features, alpha)."""
    x = ctx.act(node.input(0))
    return [ctx.emit("LeakyRelu", [x.ref], {"alpha": float(node.attr("alpha", 0.2))},
                     perm=x.perm, source=True)]


@tf_op("Softmax", "LogSoftmax", ir_ops=["Softmax", "LogSoftmax"])
def softmax(node, ctx):
    """Softmax(logits) / LogSoftmax(logits): over the last source axis."""
    x = ctx.act(node.input(0))
    return [ctx.emit(node.op, [x.ref], {"axis": ir_axis(-1, x.perm, x.rank)}, perm=x.perm,
                     source=True)]


@tf_op("Erfc", ir_ops=["Erf", "Power"])
def erfc(node, ctx):
    """Erfc(x) = 1 - erf(x) (Keras' exact GELU uses it)."""
    x = ctx.act(node.input(0))
    e = ctx.emit("Erf", [x.ref], perm=x.perm, suffix="erf")
    return [ctx.emit("Power", [e.ref], {"power": 1.0, "scale": -1.0, "shift": 1.0},
                     perm=x.perm, source=True)]
