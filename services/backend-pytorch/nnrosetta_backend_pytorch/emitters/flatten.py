from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Flatten")
def emit(e) -> None:
    axis, end = int(e.attr("axis", 1)), int(e.attr("end_axis", -1))
    e.assign(f"torch.flatten({e.x}, {axis})" if end == -1 else
             f"torch.flatten({e.x}, {axis}, {end})")
