"""Swish and SwiGLU: SiLU when alpha is 1."""

from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


def _swish(e, x: str) -> str:
    alpha = float(e.attr("alpha", 1.0))
    if alpha == 1.0:
        return f"F.silu({x})"
    return f"{x} * torch.sigmoid({x} * {fmt_float(alpha)})"


@emitter("Swish")
def emit(e) -> None:
    if float(e.attr("alpha", 1.0)) == 1.0:
        e.assign(f"{e.layer('nn.SiLU()')}({e.x})")
        return
    e.assign(_swish(e, e.x))


@emitter("SwiGLU")
def emit_swiglu(e) -> None:
    a, b = e.inputs
    swish = _swish(e, a)
    e.assign(f"{swish} * {b}" if swish.startswith("F.") else f"({swish}) * {b}")
