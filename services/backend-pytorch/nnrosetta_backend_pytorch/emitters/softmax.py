from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Softmax")
def emit(e) -> None:
    layer = e.layer(f"nn.Softmax(dim={int(e.attr('axis', 1))})")
    e.assign(f"{layer}({e.x})")
