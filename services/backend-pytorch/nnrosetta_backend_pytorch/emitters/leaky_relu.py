from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


@emitter("LeakyRelu")
def emit(e) -> None:
    alpha = fmt_float(e.attr("alpha", 0.01))
    e.assign(f"{e.layer(f'nn.LeakyReLU(negative_slope={alpha})')}({e.x})")
