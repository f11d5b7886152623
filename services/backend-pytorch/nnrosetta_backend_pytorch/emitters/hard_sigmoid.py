import numpy as np

from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


@emitter("HardSigmoid")
def emit(e) -> None:
    """nn.Hardsigmoid() is alpha 1/6, beta 1/2; other slopes clamp the affine map."""
    alpha, beta = float(e.attr("alpha", 0.2)), float(e.attr("beta", 0.5))
    if np.float32(alpha) == np.float32(1 / 6) and np.float32(beta) == np.float32(0.5):
        e.assign(f"{e.layer('nn.Hardsigmoid()')}({e.x})")
        return
    expr = e.x if alpha == 1.0 else f"{e.x} * {fmt_float(alpha)}"
    if beta != 0.0:
        expr = f"{expr} + {fmt_float(beta)}"
    e.assign(f"torch.clamp({expr}, 0.0, 1.0)")
