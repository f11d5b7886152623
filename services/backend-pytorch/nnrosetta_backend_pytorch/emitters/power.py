from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Power")
def emit(e) -> None:
    """y = (shift + scale * x) ** power, with the no-op parts left out."""
    power, scale, shift = (float(e.attr(k, d)) for k, d in
                           (("power", 1.0), ("scale", 1.0), ("shift", 0.0)))
    expr = e.x if scale == 1.0 else f"{e.x} * {fmt_float(scale)}"
    if shift != 0.0:
        expr = f"{expr} + {fmt_float(shift)}"
    if power != 1.0:
        expr = f"({expr}) ** {fmt_float(power)}" if expr != e.x else f"{expr} ** {fmt_float(power)}"
    e.assign(expr)
