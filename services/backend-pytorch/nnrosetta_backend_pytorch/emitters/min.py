from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Min")
def emit(e) -> None:
    expr = e.inputs[0]
    for x in e.inputs[1:]:
        expr = f"torch.minimum({expr}, {x})"
    e.assign(expr)
