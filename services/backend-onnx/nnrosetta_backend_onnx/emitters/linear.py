from nnrosetta_backend_onnx.emitters import emitter


@emitter("MatMul")
def emit_matmul(e) -> None:
    e.final("MatMul", [e.inputs[0], e.inputs[1]])


def check_gemm(c) -> list[str]:
    out = []
    for i in (0, 1):
        r = c.in_rank(i)
        if r is not None and r != 2:
            out.append(f"input {i} has rank {r}: ONNX Gemm takes matrices")
    return out


@emitter("Gemm", check=check_gemm)
def emit_gemm(e) -> None:
    e.final("Gemm", list(e.inputs[:3]), alpha=float(e.attr("alpha", 1.0)),
            beta=float(e.attr("beta", 1.0)), transA=int(bool(e.attr("transA", False))),
            transB=int(bool(e.attr("transB", False))))
