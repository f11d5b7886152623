"""Elementwise ops of several inputs (Add, Sum, Sub, Mul, Div, Max, Min, Mean, Pow) -> Keras
merge layers (Add, Multiply, ...) when the inputs have one shape, else keras.ops with NumPy
broadcasting.

Every input is brought to one layout (the first full-rank activation's); stored constants are
broadcast to the full rank and laid out the same way (a one-element constant is a literal)."""

import numpy as np

from nnrosetta_backend_tf.codegen import CodegenError, fmt_float
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.layout import Layout, identity

MERGE = {"Add": "Add", "Sum": "Add", "Sub": "Subtract", "Mul": "Multiply", "Max": "Maximum",
         "Min": "Minimum", "Mean": "Average"}
BINARY = {"Add": "+", "Sum": "+", "Sub": "-", "Mul": "*", "Div": "/"}
FOLD = {"Max": "maximum", "Min": "minimum", "Pow": "power"}


def operands(e) -> tuple[list[str], Layout]:
    """The inputs as expressions in one layout, and that layout."""
    n = len(e.node.inputs)
    ranks = [e.rank(i) for i in range(n)]
    r = max(ranks)
    acts = [i for i in range(n) if not e.const_input(i)]
    full = [i for i in acts if ranks[i] == r]
    if not full:
        target = identity(r)
    elif any(ranks[i] < r for i in acts):
        target = identity(r)           # NumPy broadcasting of the IR values, as they are
    else:
        target = e.layout(full[0])
        if any(e.layout(i) != target for i in full) and not target.plain:
            raise CodegenError(e.name, "inputs flattened in different orders")
    out = []
    for i in range(n):
        if e.const_input(i):
            out.append(_constant(e, i, r, target))
        elif ranks[i] == r:
            out.append(e.arg(i, target))
        else:
            out.append(e.arg(i, identity(ranks[i])))
    return out, target


def _constant(e, i: int, rank: int, target: Layout) -> str:
    value = e.const_value(i)
    if value.size == 1 and value.dtype.kind == "f":
        return fmt_float(float(value.reshape(-1)[0]))
    value = value.reshape((1,) * (rank - value.ndim) + value.shape)
    value = np.transpose(value, target.perm)
    if target.order is not None and value.shape[-1] == target.order.size:
        value = np.take(value, target.order, axis=-1)
    return e.constant(np.ascontiguousarray(value), f"in{i}")


def _same_shapes(e) -> bool:
    shapes = [e.in_shape(i) for i in range(len(e.node.inputs))]
    return not any(e.const_input(i) for i in range(len(shapes))) and \
        shapes[0] is not None and all(s == shapes[0] for s in shapes)


def _describe(op: str) -> str:
    merge = f"``layers.{MERGE[op]}`` (inputs of one shape), else " if op in MERGE else ""
    if op in BINARY:
        return f"{merge}``a {BINARY[op]} b`` (NumPy broadcasting)"
    if op == "Mean":
        return f"{merge}``(a + b + ...) / n`` (NumPy broadcasting)"
    return f"{merge}``ops.{FOLD[op]}`` (NumPy broadcasting)"


@emitter("Add", "Sum", "Sub", "Mul", "Div", "Max", "Min", "Mean", "Pow", describe=_describe)
def emit(e) -> None:
    """Add, Sum, Sub, Mul, Div, Max, Min, Mean, Pow -> ``layers.Add`` ... (one shape) or keras.ops
    (broadcast)."""
    args, lay = operands(e)
    coeffs = [float(c) for c in e.attr("coeffs", []) or []] if e.op_type == "Add" else []
    if coeffs and any(c != 1.0 for c in coeffs):
        terms = [a if c == 1.0 else f"{fmt_float(c)} * {a}"
                 for a, c in zip(args, coeffs, strict=True)]
        e.assign(" + ".join(terms), lay)
        return
    if len(args) == 1:
        e.alias(args[0], lay)
        return
    if e.op_type in MERGE and _same_shapes(e) and (e.op_type != "Sub" or len(args) == 2):
        layer = e.layer(f"layers.{MERGE[e.op_type]}")
        e.assign(f"{layer}([{', '.join(args)}])", lay)
        return
    if e.op_type in BINARY:
        e.assign(f" {BINARY[e.op_type]} ".join(args), lay)
    elif e.op_type == "Mean":
        e.assign(f"({' + '.join(args)}) / {float(len(args))!r}", lay)
    else:
        expr = args[0]
        for a in args[1:]:
            expr = f"ops.{FOLD[e.op_type]}({expr}, {a})"
        e.assign(expr, lay)
