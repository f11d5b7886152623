from nnrosetta_backend_onnx.emitters import emitter


@emitter("Dropout", "Identity")
def emit(e) -> None:
    """Identity: the exported graph is the inference graph (Dropout is identity there)."""
    e.final("Identity", [e.x], dtype=e.b.dtypes.get(e.x, 1))
