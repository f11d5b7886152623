from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Sum")
def emit(e) -> None:
    e.assign(" + ".join(e.inputs))
