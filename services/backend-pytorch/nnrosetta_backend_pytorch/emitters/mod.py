from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Mod")
def emit(e) -> None:
    """torch.fmod (the dividend's sign) or torch.remainder (the divisor's sign)."""
    a, b = e.inputs
    fn = "torch.fmod" if e.attr("fmod", False) else "torch.remainder"
    e.assign(f"{fn}({a}, {b})")
