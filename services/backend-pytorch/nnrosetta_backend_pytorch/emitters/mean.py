from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Mean")
def emit(e) -> None:
    if len(e.inputs) == 1:
        e.assign(e.x)
        return
    e.assign(f"({' + '.join(e.inputs)}) / {len(e.inputs)}")
