"""Comparison and logic ops: Less, LessOrEqual, Greater, GreaterOrEqual, Equal (broadcasting,
bool out), Not, And, Or, Xor, Where, IsNaN, IsInf; each maps to the IR op of the same name.

Constant operands become IR Constant nodes: float32 for comparisons and Where's values (the IR
computes in float32) unless the constant is bool, bool for logic operands and Where's
condition."""

from nnrosetta_frontend_onnx.importers._base import Out, importer, node

COMPARISONS = {"Less": 7, "Greater": 7, "Equal": 7, "LessOrEqual": 12, "GreaterOrEqual": 12}
LOGIC = {"And": 7, "Or": 7, "Xor": 7}


def _value_ref(ctx, name: str) -> str:
    """A number operand: float32, or bool when it is a bool constant."""
    if ctx.is_const(name) and ctx.tensor(name).dtype == "bool":
        return ctx.ref(name, "bool")
    return ctx.ref(name)


def _comparison(ir_op: str):
    def fn(onode, ctx) -> Out:
        return Out([node(onode, ir_op, [_value_ref(ctx, x) for x in onode.inputs[:2]])])

    fn.__name__ = f"import_{ir_op.lower()}"
    return fn


def _logic(ir_op: str):
    def fn(onode, ctx) -> Out:
        return Out([node(onode, ir_op, [ctx.ref(x, "bool") for x in onode.inputs[:2]])])

    fn.__name__ = f"import_{ir_op.lower()}"
    return fn


for _op, _since in COMPARISONS.items():
    importer(_op, since=_since, ir_ops=[_op])(_comparison(_op))
for _op, _since in LOGIC.items():
    importer(_op, since=_since, ir_ops=[_op])(_logic(_op))


@importer("Not", since=1, ir_ops=["Not"])
def not_(onode, ctx) -> Out:
    return Out([node(onode, "Not", [ctx.ref(onode.input(0), "bool")])])


@importer("Where", since=9, ir_ops=["Where"])
def where(onode, ctx) -> Out:
    c, x, y = onode.input(0), onode.input(1), onode.input(2)
    return Out([node(onode, "Where", [ctx.ref(c, "bool"), _value_ref(ctx, x),
                                      _value_ref(ctx, y)])])


@importer("IsNaN", since=9, ir_ops=["IsNaN"])
def isnan(onode, ctx) -> Out:
    return Out([node(onode, "IsNaN", [ctx.ref(onode.input(0))])])


@importer("IsInf", since=10, ir_ops=["IsInf"])
def isinf(onode, ctx) -> Out:
    return Out([node(onode, "IsInf", [ctx.ref(onode.input(0))],
                     detect_negative=bool(onode.attr("detect_negative", 1)),
                     detect_positive=bool(onode.attr("detect_positive", 1)))])
