from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Shrink")
def emit(e) -> None:
    """nn.Hardshrink (bias 0) or nn.Softshrink (bias = lambd); torch.where otherwise."""
    bias, lambd = float(e.attr("bias", 0.0)), float(e.attr("lambd", 0.5))
    if lambd >= 0.0 and bias == 0.0:
        e.assign(f"{e.layer(f'nn.Hardshrink(lambd={fmt_float(lambd)})')}({e.x})")
        return
    if lambd >= 0.0 and bias == lambd:
        e.assign(f"{e.layer(f'nn.Softshrink(lambd={fmt_float(lambd)})')}({e.x})")
        return
    x, b, lam = e.x, fmt_float(bias), fmt_float(lambd)
    minus_lam = fmt_float(-lambd)
    e.assign(f"torch.where({x} < {minus_lam}, {x} + {b}, "
             f"torch.where({x} > {lam}, {x} - {b}, torch.zeros_like({x})))")
