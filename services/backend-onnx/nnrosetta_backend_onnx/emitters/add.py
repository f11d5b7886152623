import numpy as np

from nnrosetta_backend_onnx.emitters import emitter


def check(c) -> list[str]:
    coeffs = c.attr("coeffs", [])
    if coeffs and len(coeffs) != len(c.ir_node.inputs):
        return [f"{len(coeffs)} coeffs for {len(c.ir_node.inputs)} inputs"]
    return []


@emitter("Add", check=check)
def emit(e) -> None:
    """Add (two inputs) or Sum; coefficients other than 1 as Mul by constants first."""
    coeffs = [float(v) for v in e.attr("coeffs", [])] or [1.0] * len(e.inputs)
    terms = [x if c == 1.0 else e.node("Mul", [x, e.const(np.float32(c), hint=f"coeff{i}")])
             for i, (x, c) in enumerate(zip(e.inputs, coeffs, strict=True))]
    if len(terms) == 1:
        e.alias(terms[0])
    else:
        e.final("Add" if len(terms) == 2 else "Sum", terms)
