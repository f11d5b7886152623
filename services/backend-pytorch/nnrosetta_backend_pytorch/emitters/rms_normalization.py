from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    if c.in_shape() is None:
        return ["the input shape is unknown (needed for the normalized shape)"]
    return []


@emitter("RMSNormalization", check=check)
def emit(e) -> None:
    """F.rms_norm over x.shape[axis:] with the Scale input as its weight (multiplied after the
    normalization when it only broadcasts to the normalized dims)."""
    shape = e.in_shape()
    norm = [int(d) for d in shape[int(e.attr("axis", -1)) % len(shape):]]
    eps = float(e.attr("epsilon", 1e-5))
    scale, sshape = e.inputs[1], e.in_shape(1)
    args = [e.x, "[" + ", ".join(map(str, norm)) + "]"]
    exact = sshape is not None and [int(d) for d in sshape] == norm
    if exact:
        args.append(scale)
    args.append(f"eps={fmt_float(eps)}")
    expr = f"F.rms_norm({', '.join(args)})"
    e.assign(expr if exact else f"{expr} * {scale}")
