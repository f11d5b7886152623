from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


@emitter("ThresholdedRelu")
def emit(e) -> None:
    """nn.Threshold(threshold, value): x if x > threshold else value."""
    alpha = fmt_float(e.attr("alpha", 1.0))
    e.assign(f"{e.layer(f'nn.Threshold({alpha}, 0.0)')}({e.x})")
