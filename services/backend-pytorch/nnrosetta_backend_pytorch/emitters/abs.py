from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Abs")
def emit(e) -> None:
    e.assign(f"torch.abs({e.x})")
