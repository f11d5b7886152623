"""Elementwise math without attributes: Abs, Neg, Exp, Log, Sqrt, Reciprocal, Floor, Ceil,
Round, Sign, Sin, Cos, Tan, Asin, Acos, Atan, Sinh, Cosh, Asinh, Acosh, Atanh, Erf."""

from nnrosetta_frontend_onnx.importers._base import Out, importer, node

SINCE = {"Abs": 1, "Neg": 1, "Exp": 1, "Log": 1, "Sqrt": 1, "Reciprocal": 1, "Floor": 1,
         "Ceil": 1, "Round": 11, "Sign": 9, "Sin": 7, "Cos": 7, "Tan": 7, "Asin": 7,
         "Acos": 7, "Atan": 7, "Sinh": 9, "Cosh": 9, "Asinh": 9, "Acosh": 9, "Atanh": 9,
         "Erf": 9}


def _unary(onode, ctx) -> Out:
    return Out([node(onode, onode.op_type, [ctx.ref(onode.input(0))])])


for _t, _since in SINCE.items():
    importer(_t, since=_since, ir_ops=[_t])(_unary)
