from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    coeffs = c.attr("coeffs", [])
    if coeffs and len(coeffs) != len(c.node.inputs):
        return [f"{len(coeffs)} coeffs for {len(c.node.inputs)} inputs"]
    return []


@emitter("Add", check=check)
def emit(e) -> None:
    coeffs = [float(v) for v in e.attr("coeffs", [])] or [1.0] * len(e.inputs)
    terms = [x if c == 1.0 else f"{fmt_float(c)} * {x}"
             for x, c in zip(e.inputs, coeffs, strict=True)]
    e.assign(" + ".join(terms))
