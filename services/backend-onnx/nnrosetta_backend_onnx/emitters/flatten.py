from nnrosetta_backend_onnx.emitters import emitter


def check(c) -> list[str]:
    if c.in_rank() is None:
        return ["the input's rank is unknown (shape inference failed)"]
    return []


@emitter("Flatten", check=check)
def emit(e) -> None:
    """ONNX Flatten for axis 1 .. last; otherwise a Reshape that keeps the leading dims (0)."""
    shape = e.in_shape()
    rank = len(shape)
    a, end = int(e.attr("axis", 1)) % rank, int(e.attr("end_axis", -1)) % rank
    if a == 1 and end == rank - 1:
        e.final("Flatten", [e.x], axis=1)
        return
    target = [0] * a + [-1] + [int(d) for d in shape[end + 1:]]
    e.final("Reshape", [e.x, e.ints(target, "shape")])
