from nnrosetta_backend_pytorch.emitters import emitter


def _squeezed(c) -> list[int] | None:
    shape = c.in_shape()
    axes = [int(a) for a in c.attr("axes", [])]
    if axes:
        return sorted(a % len(shape) if shape is not None else a for a in axes)
    if shape is None:
        return None
    return [i for i, d in enumerate(shape) if d == 1]


def check(c) -> list[str]:
    axes = c.attr("axes", [])
    if (not axes or min(axes) < 0) and c.in_shape() is None:
        return ["the input shape is unknown (needed to resolve the squeezed dims)"]
    return []


@emitter("Squeeze", check=check)
def emit(e) -> None:
    """Explicit dims, even for axes = []: a batch of 1 must not lose its batch dim."""
    axes = _squeezed(e)
    if not axes:
        e.assign(e.x)
    elif len(axes) == 1:
        e.assign(f"torch.squeeze({e.x}, {axes[0]})")
    else:
        e.assign(f"torch.squeeze({e.x}, ({', '.join(map(str, axes))}))")


def check_unsqueeze(c) -> list[str]:
    if min(c.attr("axes", [0])) < 0 and c.in_shape() is None:
        return ["negative axes need the input rank, and the input shape is unknown"]
    return []


@emitter("Unsqueeze", check=check_unsqueeze)
def emit_unsqueeze(e) -> None:
    axes = [int(a) for a in e.attr("axes")]
    shape = e.in_shape()
    if shape is not None:  # else check() made sure the axes are non-negative
        axes = [a % (len(shape) + len(axes)) for a in axes]
    expr = e.x
    for a in sorted(axes):
        expr += f".unsqueeze({a})"
    e.assign(expr)
