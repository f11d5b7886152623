from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Pow")
def emit(e) -> None:
    a, b = e.inputs
    e.assign(f"{a} ** {b}")
