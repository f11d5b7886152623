import numpy as np

from nnrosetta_backend_onnx.emitters import emitter


@emitter("Power")
def emit(e) -> None:
    """y = (shift + scale * x) ** power as Mul / Add / Pow with constants (no-op parts left
    out)."""
    power, scale, shift = (float(e.attr(k, d)) for k, d in
                           (("power", 1.0), ("scale", 1.0), ("shift", 0.0)))
    steps = []
    if scale != 1.0:
        steps.append(("Mul", scale, "scale"))
    if shift != 0.0:
        steps.append(("Add", shift, "shift"))
    if power != 1.0:
        steps.append(("Pow", power, "power"))
    if not steps:
        e.alias(e.x)
        return
    x = e.x
    for i, (op, v, hint) in enumerate(steps):
        c = e.const(np.float32(v), hint=hint)
        if i == len(steps) - 1:
            e.final(op, [x, c])
        else:
            x = e.node(op, [x, c])
