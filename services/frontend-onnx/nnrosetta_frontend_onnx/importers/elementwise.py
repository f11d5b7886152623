"""Elementwise arithmetic with broadcasting: Add, Sub, Mul, Div, Pow, Max, Min, Mean, Sum.
Constant operands become IR Constant nodes; Pow with a constant scalar exponent is IR Power."""

import numpy as np

from nnrosetta_frontend_onnx.importers._base import Out, importer, node


def _refs(onode, ctx) -> list[str]:
    return [ctx.ref(x) for x in onode.inputs if x]


def _variadic(ir_op: str):
    def fn(onode, ctx) -> Out:
        return Out([node(onode, ir_op, _refs(onode, ctx))])

    fn.__name__ = f"import_{ir_op.lower()}"
    return fn


importer("Add", since=7, ir_ops=["Add"])(_variadic("Add"))
importer("Sum", since=6, ir_ops=["Add"])(_variadic("Add"))       # IR Add: plain sum
importer("Mul", since=7, ir_ops=["Mul"])(_variadic("Mul"))
importer("Max", since=6, ir_ops=["Max"])(_variadic("Max"))
importer("Min", since=6, ir_ops=["Min"])(_variadic("Min"))
importer("Mean", since=6, ir_ops=["Mean"])(_variadic("Mean"))
importer("Sub", since=7, ir_ops=["Sub"])(_variadic("Sub"))
importer("Div", since=7, ir_ops=["Div"])(_variadic("Div"))


@importer("Pow", since=7, ir_ops=["Power", "Pow"])
def pow_(onode, ctx) -> Out:
    x, e = onode.input(0), onode.input(1)
    x_shape = ctx.shape(x)
    if ctx.is_const(e) and x_shape is not None:
        ev = np.asarray(ctx.const(e, "exponent"))
        if ev.size == 1 and ev.ndim <= len(x_shape):
            return Out([node(onode, "Power", [ctx.ref(x)], power=float(ev.reshape(-1)[0]))])
    return Out([node(onode, "Pow", [ctx.ref(x), ctx.ref(e)])])
