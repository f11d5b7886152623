"""LpNormalization and MeanVarianceNormalization: ONNX has both under the same names."""

from nnrosetta_backend_onnx.emitters import emitter


@emitter("LpNormalization")
def emit_lp(e) -> None:
    e.final("LpNormalization", [e.x], axis=int(e.attr("axis", -1)), p=int(e.attr("p", 2)))


@emitter("MeanVarianceNormalization")
def emit_mvn(e) -> None:
    axes = [int(a) for a in e.attr("axes", [0, 2, 3])]
    e.final("MeanVarianceNormalization", [e.x], axes=axes)
