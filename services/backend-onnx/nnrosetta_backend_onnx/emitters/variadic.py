from nnrosetta_backend_onnx.emitters import emitter


@emitter("Max", "Min", "Mean", "Sum")
def emit(e) -> None:
    """ONNX's variadic ops, with NumPy (multidirectional) broadcasting."""
    e.final(e.op, list(e.inputs))


@emitter("Mul")
def emit_mul(e) -> None:
    x = e.inputs[0]
    if len(e.inputs) == 1:
        e.alias(x)
        return
    for y in e.inputs[1:-1]:
        x = e.node("Mul", [x, y])
    e.final("Mul", [x, e.inputs[-1]])
