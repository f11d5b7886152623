"""RMSNormalization (opset 23): X and Scale are inputs (Scale may be a constant)."""

from nnrosetta_frontend_onnx.importers._base import Out, canon_axis, importer, node


@importer("RMSNormalization", since=23, ir_ops=["RMSNormalization"])
def rms_normalization(onode, ctx) -> Out:
    x = ctx.shape(onode.input(0))
    axis = int(onode.attr("axis", -1))
    if x is not None:
        axis = canon_axis(axis, len(x), onode)
    return Out([node(onode, "RMSNormalization", [ctx.ref(onode.input(0)),
                                                 ctx.ref(onode.input(1))],
                     axis=axis, epsilon=float(onode.attr("epsilon", 1e-5)),
                     stash_type=int(onode.attr("stash_type", 1)))])
