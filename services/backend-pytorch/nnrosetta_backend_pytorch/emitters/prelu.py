from nnrosetta_backend_pytorch.emitters import emitter


def _per_channel(shape) -> bool:
    return shape is not None and (len(shape) < 2 or not sum(d != 1 for d in shape[1:]))


@emitter("PRelu")
def emit(e) -> None:
    """nn.PReLU for a stored per-channel (or shared) slope; otherwise (a slope computed at run
    time, or one that broadcasts over more than the channels) the functional form."""
    shape = e.param_shape("slope")
    if e.dynamic("slope") or not _per_channel(shape):
        if shape is not None and len(shape) == 1:
            e.assign(f"F.prelu({e.x}, {e.param('slope')})")
        else:
            e.assign(f"torch.where({e.x} >= 0, {e.x}, {e.x} * {e.param('slope')})")
        return
    slope = e.weight("slope").reshape(-1)
    layer = e.layer(f"nn.PReLU(num_parameters={slope.size})", {"weight": slope})
    e.assign(f"{layer}({e.x})")
