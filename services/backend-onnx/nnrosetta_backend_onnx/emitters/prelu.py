from nnrosetta_backend_onnx.emitters import emitter


@emitter("PRelu")
def emit(e) -> None:
    """ONNX PRelu with the slope laid out per channel: [C] -> [C, 1, 1]."""
    if len(e.weight_shape("slope")) >= 2:  # already laid out to broadcast from the right
        e.final("PRelu", [e.x, e.weight("slope")])
        return
    n = 1
    for d in e.weight_shape("slope"):
        n *= int(d)
    rank = e.in_rank() or 4
    shape = [1] if n == 1 else [n] + [1] * max(0, rank - 2)
    e.final("PRelu", [e.x, e.weight("slope", shape)])
