from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    return ["alpha must not be 0"] if float(c.attr("alpha", 1.0)) == 0.0 else []


@emitter("Celu", check=check)
def emit(e) -> None:
    alpha = fmt_float(e.attr("alpha", 1.0))
    e.assign(f"{e.layer(f'nn.CELU(alpha={alpha})')}({e.x})")
