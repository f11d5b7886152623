import numpy as np

from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter

ALPHA = 1.67326319217681884765625
GAMMA = 1.05070102214813232421875


@emitter("Selu")
def emit(e) -> None:
    """nn.SELU() has the standard constants; others scale an ELU."""
    alpha, gamma = float(e.attr("alpha", ALPHA)), float(e.attr("gamma", GAMMA))
    if np.float32(alpha) == np.float32(ALPHA) and np.float32(gamma) == np.float32(GAMMA):
        e.assign(f"{e.layer('nn.SELU()')}({e.x})")
        return
    elu = f"F.elu({e.x}, alpha={fmt_float(alpha)})"
    e.assign(elu if gamma == 1.0 else f"{fmt_float(gamma)} * {elu}")
