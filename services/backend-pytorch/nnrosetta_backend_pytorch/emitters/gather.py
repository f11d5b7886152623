from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    axis = int(c.attr("axis", 0))
    if axis < 0 and c.in_shape() is None:
        return ["a negative axis needs the input rank, and the input shape is unknown"]
    return []


@emitter("Gather", check=check)
def emit(e) -> None:
    """x[:, indices]: one integer-tensor index keeps the index's shape in place of the axis and
    counts negative entries from the end, as ONNX Gather does."""
    axis = int(e.attr("axis", 0))
    if axis < 0:
        axis %= len(e.in_shape())
    e.assign(f"{e.x}[{':, ' * axis}{e.inputs[1]}]")
