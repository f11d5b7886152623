from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Gelu")
def emit(e) -> None:
    approximate = e.attr("approximate", "none")
    ctor = "nn.GELU()" if approximate == "none" else f'nn.GELU(approximate="{approximate}")'
    e.assign(f"{e.layer(ctor)}({e.x})")
