from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Sigmoid")
def emit(e) -> None:
    e.assign(f"{e.layer('nn.Sigmoid()')}({e.x})")
