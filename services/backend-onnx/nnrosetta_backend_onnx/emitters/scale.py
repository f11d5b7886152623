from nnrosetta_backend_onnx.emitters import emitter


def check(c) -> list[str]:
    if c.in_rank() is None and int(c.attr("axis", 1)) < 0:
        return ["negative axis needs the input's rank (shape inference failed)"]
    return []


@emitter("Scale", check=check)
def emit(e) -> None:
    """Mul (and Add) with the weights laid out to broadcast from axis: [C] -> [C, 1, 1]."""
    wshape = e.weight_shape("scale")
    rank = e.in_rank()
    axis = int(e.attr("axis", 1))
    if rank is None:
        rank = axis + len(wshape) + 2
    axis %= rank
    pshape = list(wshape) + [1] * max(0, rank - axis - len(wshape))
    if not e.has_weight("bias"):
        e.final("Mul", [e.x, e.weight("scale", pshape)])
        return
    y = e.node("Mul", [e.x, e.weight("scale", pshape)])
    e.final("Add", [y, e.weight("bias", pshape)])
