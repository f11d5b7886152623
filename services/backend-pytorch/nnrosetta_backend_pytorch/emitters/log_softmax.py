from nnrosetta_backend_pytorch.emitters import emitter


@emitter("LogSoftmax")
def emit(e) -> None:
    layer = e.layer(f"nn.LogSoftmax(dim={int(e.attr('axis', 1))})")
    e.assign(f"{layer}({e.x})")


@emitter("Hardmax")
def emit_hardmax(e) -> None:
    """One-hot of the (first) argmax along the axis."""
    a = int(e.attr("axis", 1))
    e.assign(f"torch.zeros_like({e.x}).scatter_({a}, torch.argmax({e.x}, dim={a}, "
             f"keepdim=True), 1.0)")
