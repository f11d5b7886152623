from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Relu")
def emit(e) -> None:
    e.assign(f"{e.layer('nn.ReLU()')}({e.x})")
