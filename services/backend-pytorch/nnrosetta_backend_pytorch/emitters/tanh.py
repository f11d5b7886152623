from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Tanh")
def emit(e) -> None:
    e.assign(f"{e.layer('nn.Tanh()')}({e.x})")
