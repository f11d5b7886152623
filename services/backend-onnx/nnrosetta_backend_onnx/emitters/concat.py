from nnrosetta_backend_onnx.emitters import emitter


@emitter("Concat")
def emit(e) -> None:
    e.final("Concat", list(e.inputs), axis=int(e.attr("axis", 1)))
