from nnrosetta_backend_pytorch.emitters import emitter


@emitter("LpNormalization")
def emit(e) -> None:
    """F.normalize: x / max(norm, 1e-12), the IR's x / norm with zeros for a zero norm
    (differing only for norms below 1e-12)."""
    p, axis = int(e.attr("p", 2)), int(e.attr("axis", -1))
    e.assign(f"F.normalize({e.x}, p={float(p)}, dim={axis})")
