from nnrosetta_backend_onnx.emitters import emitter


@emitter("Reshape")
def emit(e) -> None:
    """ONNX Reshape with allowzero=0: 0 copies the input dim, -1 is inferred (the IR's)."""
    e.final("Reshape", [e.x, e.ints(e.attr("shape"), "shape")])
