"""Elementwise math -> keras.ops (``ops.exp(x)``, ...); Identity and Dropout; Power, Cast.
The output keeps the input's layout."""

from nnrosetta_backend_tf.codegen import Code, fmt_float
from nnrosetta_backend_tf.emitters import emitter

OPS = {"Abs": "abs", "Neg": "negative", "Exp": "exp", "Log": "log", "Sqrt": "sqrt",
       "Erf": "erf", "Reciprocal": "reciprocal", "Floor": "floor", "Ceil": "ceil",
       "Round": "round", "Sin": "sin", "Cos": "cos", "Tan": "tan", "Asin": "arcsin",
       "Acos": "arccos", "Atan": "arctan", "Sinh": "sinh", "Cosh": "cosh", "Asinh": "arcsinh",
       "Acosh": "arccosh", "Atanh": "arctanh", "Sign": "sign", "Not": "logical_not",
       "IsNaN": "isnan"}


@emitter(*OPS, describe=lambda op: f"``ops.{OPS[op]}(x)``")
def unary(e) -> None:
    """Abs, Exp, Log, Sqrt, Erf, Floor, Sin, ... -> ``ops.abs(x)``, ``ops.exp(x)``, ..."""
    e.assign(e.op(OPS[e.op_type], Code(e.x)), e.layout())


@emitter("Identity")
def identity(e) -> None:
    """Identity -> nothing (the same value)."""
    e.alias(e.x, e.layout())


@emitter("Dropout")
def dropout(e) -> None:
    """Dropout -> ``layers.Dropout(ratio)`` (identity at inference, drops when training)."""
    layer = e.layer("layers.Dropout", float(e.attr("ratio", 0.5)))
    e.assign(f"{layer}({e.x})", e.layout())


@emitter("Power")
def power(e) -> None:
    """Power -> ``ops.power(shift + scale * x, power)``."""
    p, scale, shift = (float(e.attr(k, d)) for k, d in (("power", 1.0), ("scale", 1.0),
                                                         ("shift", 0.0)))
    expr = e.x if scale == 1.0 else f"{e.x} * {fmt_float(scale)}"
    if shift != 0.0:
        expr = f"{expr} + {fmt_float(shift)}"
    if p != 1.0:
        expr = e.op("power", Code(expr), p)
    e.assign(expr, e.layout())


@emitter("Cast")
def cast(e) -> None:
    """Cast -> ``ops.cast``."""
    e.assign(e.op("cast", Code(e.x), str(e.attr("to"))), e.layout())
