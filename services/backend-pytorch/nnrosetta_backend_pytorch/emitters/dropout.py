from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    r = c.attr("ratio", 0.5)
    return [] if 0 <= r <= 1 else [f"ratio {r} is not a probability"]


@emitter("Dropout", check=check)
def emit(e) -> None:
    # identity at inference (eval mode); drops activations when the model trains
    p = fmt_float(e.attr("ratio", 0.5))
    e.assign(f"{e.layer(f'nn.Dropout(p={p})')}({e.x})")
