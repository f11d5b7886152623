from nnrosetta_backend_onnx.emitters import emitter


@emitter("Softmax", "LogSoftmax", "Hardmax")
def emit(e) -> None:
    """Opset >= 13 (the lowest written here) normalizes over the one axis, as the IR does."""
    e.final(e.op, [e.x], axis=int(e.attr("axis", 1)))
