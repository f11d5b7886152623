import math

from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Clip")
def emit(e) -> None:
    """nn.ReLU6() for [0, 6]; torch.clamp with the finite bounds otherwise."""
    lo, hi = float(e.attr("min", -math.inf)), float(e.attr("max", math.inf))
    if lo == 0.0 and hi == 6.0:
        e.assign(f"{e.layer('nn.ReLU6()')}({e.x})")
        return
    bounds = ([f"min={fmt_float(lo)}"] if lo != -math.inf else []) + \
        ([f"max={fmt_float(hi)}"] if hi != math.inf else [])
    e.assign(f"torch.clamp({e.x}, {', '.join(bounds)})" if bounds else e.x)
