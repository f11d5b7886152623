import math

from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


def _static(e, role: str, inf: float) -> float:
    """A bound known now: a stored one-element weight, else the attribute."""
    if e.has_weight(role):
        return float(e.weight(role).reshape(-1)[0])
    return float(e.attr(role, inf))


def _dynamic(e) -> None:
    """torch.clamp with a bound computed at run time (a one-element tensor); min applies
    before max, so max wins when min > max."""
    def tensor(role: str) -> str:
        v = e.param(role)
        return v if tuple(e.param_shape(role) or ()) == () else f"{v}.reshape(())"

    if e.dynamic("min") and e.dynamic("max"):
        e.assign(f"torch.clamp({e.x}, min={tensor('min')}, max={tensor('max')})")
        return
    expr = e.x
    for role, inf in (("min", -math.inf), ("max", math.inf)):
        if e.dynamic(role):
            expr = f"torch.clamp({expr}, {role}={tensor(role)})"
        elif _static(e, role, inf) != inf:
            expr = f"{expr}.clamp({role}={fmt_float(_static(e, role, inf))})"
    e.assign(expr)


@emitter("Clip")
def emit(e) -> None:
    """nn.ReLU6() for [0, 6]; torch.clamp with the finite bounds otherwise (bounds computed
    at run time are tensors)."""
    if e.any_dynamic():
        _dynamic(e)
        return
    lo, hi = _static(e, "min", -math.inf), _static(e, "max", math.inf)
    if lo == 0.0 and hi == 6.0:
        e.assign(f"{e.layer('nn.ReLU6()')}({e.x})")
        return
    bounds = ([f"min={fmt_float(lo)}"] if lo != -math.inf else []) + \
        ([f"max={fmt_float(hi)}"] if hi != math.inf else [])
    e.assign(f"torch.clamp({e.x}, {', '.join(bounds)})" if bounds else e.x)
