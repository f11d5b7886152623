from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    return [] if int(c.attr("axis", 1)) >= 0 else ["negative axis is not supported"]


@emitter("Scale", check=check)
def emit(e) -> None:
    """Parameters shaped to broadcast: scale of shape [C] on NCHW becomes (C, 1, 1)."""
    axis = int(e.attr("axis", 1))
    w, b = e.weight("scale"), e.weight("bias")
    shape = e.in_shape()
    rank = len(shape) if shape is not None else axis + w.ndim + 2
    pshape = tuple(w.shape) + (1,) * max(0, rank - axis - w.ndim)
    params = {"weight": w.reshape(pshape)}
    if b is not None:
        params["bias"] = b.reshape(pshape)
    ctor = f"{e.helper('Scale')}({pshape!r}, bias={b is not None})"
    e.assign(f"{e.layer(ctor, params)}({e.x})")
