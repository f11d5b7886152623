from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Sub")
def emit(e) -> None:
    a, b = e.inputs
    e.assign(f"{a} - {b}")
