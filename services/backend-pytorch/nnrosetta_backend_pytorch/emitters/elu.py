from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Elu")
def emit(e) -> None:
    alpha = fmt_float(e.attr("alpha", 1.0))
    e.assign(f"{e.layer(f'nn.ELU(alpha={alpha})')}({e.x})")
