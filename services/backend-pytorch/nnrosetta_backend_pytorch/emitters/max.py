from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Max")
def emit(e) -> None:
    expr = e.inputs[0]
    for x in e.inputs[1:]:
        expr = f"torch.maximum({expr}, {x})"
    e.assign(expr)
