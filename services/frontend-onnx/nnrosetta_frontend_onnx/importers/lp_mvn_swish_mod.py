"""LpNormalization, MeanVarianceNormalization, Swish, SwiGLU and Mod: one IR op each, the
ONNX attributes mapped 1:1."""

from nnrosetta_frontend_onnx.importers._base import NodeIssue, Out, importer, node


@importer("LpNormalization", since=1, ir_ops=["LpNormalization"])
def lp_normalization(onode, ctx) -> Out:
    p = int(onode.attr("p", 2))
    if p not in (1, 2):
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: p {p} must be 1 or 2")
    return Out([node(onode, "LpNormalization", [ctx.ref(onode.input(0))],
                     axis=int(onode.attr("axis", -1)), p=p)])


@importer("MeanVarianceNormalization", since=9, ir_ops=["MeanVarianceNormalization"])
def mean_variance_normalization(onode, ctx) -> Out:
    axes = [int(a) for a in onode.attr("axes", [0, 2, 3])]
    return Out([node(onode, "MeanVarianceNormalization", [ctx.ref(onode.input(0))],
                     axes=axes)])


@importer("Swish", since=24, ir_ops=["Swish"])
def swish(onode, ctx) -> Out:
    return Out([node(onode, "Swish", [ctx.ref(onode.input(0))],
                     alpha=float(onode.attr("alpha", 1.0)))])


@importer("SwiGLU", since=28, ir_ops=["SwiGLU"])
def swiglu(onode, ctx) -> Out:
    return Out([node(onode, "SwiGLU", [ctx.ref(onode.input(0)), ctx.ref(onode.input(1))],
                     alpha=float(onode.attr("alpha", 1.0)))])


@importer("Mod", since=10, ir_ops=["Mod"])
def mod(onode, ctx) -> Out:
    return Out([node(onode, "Mod", [ctx.ref(onode.input(0)), ctx.ref(onode.input(1))],
                     fmod=bool(onode.attr("fmod", 0)))])
