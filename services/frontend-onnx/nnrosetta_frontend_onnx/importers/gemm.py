"""Gemm and MatMul: a constant B (and a bias-like C) becomes FullyConnected; the rest IR Gemm /
MatMul."""

import numpy as np

from nnrosetta_frontend_onnx.importers._base import Out, importer, node


def _bias_of(c_shape: tuple[int, ...], n_out: int) -> bool:
    """C broadcasts as a per-output-feature bias: [], [1], [N], [1, N], [1, 1]."""
    dims = [d for d in c_shape]
    while dims and dims[0] == 1 and len(dims) > 1:
        dims.pop(0)
    return dims in ([], [1], [n_out])


@importer("Gemm", since=1, ir_ops=["FullyConnected", "Gemm"])
def gemm(onode, ctx) -> Out:
    a_name, b_name, c_name = onode.input(0), onode.input(1), onode.input(2)
    alpha = float(onode.attr("alpha", 1.0))
    beta = float(onode.attr("beta", 1.0))
    trans_a = int(onode.attr("transA", 0))
    trans_b = int(onode.attr("transB", 0))
    a = ctx.need_shape(onode, a_name)
    if ctx.is_const(b_name) and not trans_a and len(a) == 2 and \
            (not ctx.has(c_name) or ctx.is_const(c_name)):
        b = ctx.tensor(b_name, "B")
        n_out = b.shape[0] if trans_b else b.shape[1]
        if not ctx.has(c_name) or _bias_of(tuple(ctx.shape(c_name)), n_out):
            def weight(arr, tb=trans_b, al=alpha):
                w = np.asarray(arr, dtype=np.float32)
                w = w if tb else w.T
                return np.ascontiguousarray(w * np.float32(al) if al != 1.0 else w)

            k = b.shape[1] if trans_b else b.shape[0]
            n = node(onode, "FullyConnected", [ctx.ref(a_name)], axis=1)
            weights = {f"{n.name}.weight": b.map(weight, (n_out, k), "float32")}
            if ctx.has(c_name) and beta != 0.0:
                c = ctx.tensor(c_name, "C")
                weights[f"{n.name}.bias"] = c.map(
                    lambda arr, be=beta: np.broadcast_to(
                        np.asarray(arr, dtype=np.float32).reshape(-1) * np.float32(be),
                        (n_out,)).copy(), (n_out,), "float32")
            return Out([n], weights)
    inputs = [ctx.ref(a_name), ctx.ref(b_name)]
    if ctx.has(c_name):
        inputs.append(ctx.ref(c_name))
    return Out([node(onode, "Gemm", inputs, alpha=alpha, beta=beta, transA=bool(trans_a),
                     transB=bool(trans_b))])


@importer("MatMul", since=1, ir_ops=["FullyConnected", "MatMul"])
def matmul(onode, ctx) -> Out:
    a_name, b_name = onode.input(0), onode.input(1)
    a = ctx.shape(a_name)
    if ctx.is_const(b_name) and a is not None and len(a) >= 2 and \
            len(ctx.shape(b_name)) == 2:
        b = ctx.tensor(b_name, "B")
        n = node(onode, "FullyConnected", [ctx.ref(a_name)], axis=len(a) - 1)
        return Out([n], {f"{n.name}.weight": b.map(
            lambda arr: np.ascontiguousarray(np.asarray(arr, dtype=np.float32).T),
            (b.shape[1], b.shape[0]), "float32")})
    return Out([node(onode, "MatMul", [ctx.ref(a_name), ctx.ref(b_name)])])
