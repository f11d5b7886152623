from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Concat")
def emit(e) -> None:
    e.assign(f"torch.cat([{', '.join(e.inputs)}], dim={int(e.attr('axis', 1))})")
