from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


@emitter("MatMul")
def emit(e) -> None:
    e.assign(f"torch.matmul({e.inputs[0]}, {e.inputs[1]})")


def check_gemm(c) -> list[str]:
    n = len(c.node.inputs)
    return [] if n in (2, 3) else [f"Gemm takes 2 or 3 inputs, has {n}"]


@emitter("Gemm", check=check_gemm)
def emit_gemm(e) -> None:
    """y = alpha * A' @ B' + beta * C, written as plainly as the attributes allow."""
    a = e.inputs[0] + (".t()" if e.attr("transA", False) else "")
    b = e.inputs[1] + (".t()" if e.attr("transB", False) else "")
    alpha, beta = float(e.attr("alpha", 1.0)), float(e.attr("beta", 1.0))
    expr = f"torch.matmul({a}, {b})"
    if alpha != 1.0:
        expr = f"{fmt_float(alpha)} * {expr}"
    if len(e.inputs) == 3 and beta != 0.0:
        c = e.inputs[2] if beta == 1.0 else f"{fmt_float(beta)} * {e.inputs[2]}"
        expr = f"{expr} + {c}"
    e.assign(expr)
