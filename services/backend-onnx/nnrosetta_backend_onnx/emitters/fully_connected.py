from nnrosetta_backend_onnx.emitters import emitter


def check(c) -> list[str]:
    w = c.weight_shape("weight")
    if w is not None and len(w) != 2:
        return [f"weight shape {list(w)}: FullyConnected needs [out, in]"]
    return []


@emitter("FullyConnected", check=check)
def emit(e) -> None:
    """Gemm(transB=1), after a Flatten when the input is not [batch, features]; an axis > 1
    gets the leading dims back with a Reshape."""
    shape = e.in_shape()
    rank = len(shape) if shape is not None else 2
    axis = int(e.attr("axis", 1)) % rank
    w = e.weight("weight")
    ins = [w]
    if e.has_weight("bias"):
        ins.append(e.weight("bias", [-1]))
    x = e.x
    if not (rank == 2 and axis == 1):
        x = e.node("Flatten", [x], {"axis": axis})
    if axis <= 1:
        e.final("Gemm", [x, *ins], transB=1)
        return
    y = e.node("Gemm", [x, *ins], {"transB": 1})
    out = e.weight_shape("weight")[0]
    e.final("Reshape", [y, e.ints([-1, *shape[1:axis], out], "shape")])
