"""FullyConnected, Gemm and MatMul with a stored right-hand matrix -> ``layers.Dense``;
otherwise ``ops.matmul``.

A fully-connected layer on a channels-last activation flattens it in Keras' order (H, W, C)
and permutes the weight rows to match, instead of transposing the activation back to the
IR's (C, H, W): VGG's and AlexNet's first fully-connected layers need no Permute."""

import numpy as np

from nnrosetta.ir.graph import split_ref
from nnrosetta_backend_tf.codegen import Code, Lazy
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.layout import flatten_order, identity


def takes_flat_order(node, index: int, nodes) -> bool:
    """Whether input ``index`` of ``node`` may be a flattened channels-last value (features in
    another order): a Dense this module writes, whose weight rows follow that order."""
    if index != 0:
        return False
    if node.op == "FullyConnected":
        return int(node.attrs.get("axis", 1)) == 1
    b = nodes.get(split_ref(node.inputs[1])[0]) if len(node.inputs) > 1 else None
    const_b = b is not None and b.op == "Constant"
    if node.op == "MatMul":
        return const_b
    if node.op == "Gemm":
        return const_b and not node.attrs.get("transA", False)
    return False


def _dense(e, x: str, kernel, bias: np.ndarray | None) -> str:
    kwargs = {} if bias is not None else {"use_bias": False}
    weights = [kernel] if bias is None else [kernel, bias]
    units = int(kernel.shape[1])
    return f"{e.layer('layers.Dense', units, **kwargs, weights=weights)}({x})"


def _rows(e, kernel: np.ndarray, order, scale: float = 1.0) -> np.ndarray | Lazy:
    """The Dense kernel: ``kernel`` (a view of the IR weight) with its rows in Keras' feature
    ``order`` and times ``scale``, computed a block of rows at a time when it is assigned."""
    if order is None and scale == 1.0:
        return kernel
    if order is not None:
        e.comment("the input is flattened channels-last: the weight rows are permuted to match")

    def rows(start: int, stop: int) -> np.ndarray:
        block = kernel[order[start:stop]] if order is not None else kernel[start:stop]
        return block * np.float32(scale) if scale != 1.0 else block

    return Lazy(rows, kernel.shape)


def _last_axis_input(e, i: int = 0):
    """Input i with the IR's last axis as Keras' last axis (as it is when it already is)."""
    lay, rank = e.layout(i), e.rank(i)
    if lay.plain and lay.perm[-1] == rank - 1:
        return e.arg(i), lay
    return e.arg(i, identity(rank)), identity(rank)


@emitter("FullyConnected")
def fully_connected(e) -> None:
    """FullyConnected -> ``layers.Dense`` (after ``layers.Flatten``: rows in Keras' order)."""
    w, b = e.weight("weight"), e.weight("bias")
    rank = e.rank()
    axis = int(e.attr("axis", 1)) % rank
    lay = e.layout()
    kernel = w.T
    if lay.order is not None and axis == 1 and rank == 2:
        e.assign(_dense(e, e.arg(0), _rows(e, kernel, lay.order), b), identity(2))
    elif axis == rank - 1:
        x, lay = _last_axis_input(e)
        e.assign(_dense(e, x, kernel, b), lay)
    elif axis == 1:
        x = e.arg(0) if lay.plain else e.arg(0, identity(rank))
        order = flatten_order(lay, e.in_shape(), 1) if lay.plain else None
        flat = e.temp_layer("layers.Flatten", x, suffix="flatten")
        e.assign(_dense(e, flat, _rows(e, kernel, order), b), identity(2))
    else:
        shape = e.in_shape()
        x = e.arg(0, identity(rank))
        target = (*[int(d) for d in shape[1:axis]], int(np.prod(shape[axis:], dtype=np.int64)))
        flat = e.temp_layer("layers.Reshape", x, target, suffix="flatten")
        e.assign(_dense(e, flat, kernel, b), identity(axis + 1))


def check_gemm(c) -> list[str]:
    out = []
    for i in range(len(c.node.inputs)):
        shape = c.in_shape(i)
        if i < 2 and shape is not None and len(shape) != 2:
            out.append(f"input {i} has rank {len(shape)}: Gemm multiplies 2-D matrices")
    return out


@emitter("Gemm", check=check_gemm)
def gemm(e) -> None:
    """Gemm -> ``layers.Dense`` with a stored B (alpha, beta, C folded in), else ops.matmul."""
    alpha, beta = float(e.attr("alpha", 1.0)), float(e.attr("beta", 1.0))
    trans_a, trans_b = bool(e.attr("transA", False)), bool(e.attr("transB", False))
    has_c = len(e.node.inputs) > 2
    if e.const_input(1) and not trans_a:
        b = e.const_value(1).astype(np.float32, copy=False)
        kernel = b.T if trans_b else b
        n = kernel.shape[1]
        bias = None
        if has_c and e.const_input(2) and e.const_value(2).size in (1, n):
            c = e.const_value(2).astype(np.float32).reshape(-1)
            bias = np.broadcast_to(c * np.float32(beta), (n,)).copy()
            has_c = False
        lay = e.layout(0)
        x = e.arg(0) if lay.order is not None else e.arg(0, identity(2))
        order = lay.order
        y = _dense(e, x, _rows(e, kernel, order, alpha), bias)
    else:
        a = e.arg(0, identity(2))
        bv = e.arg(1, identity(2))
        if trans_a:
            a = e.op("transpose", Code(a))
        if trans_b:
            bv = e.op("transpose", Code(bv))
        y = e.op("matmul", Code(a), Code(bv))
        if alpha != 1.0:
            y = f"{y} * {alpha!r}"
    if has_c:
        y = e.temp(y, "product")
        c = e.arg(2, identity(e.rank(2)))
        y = f"{y} + {c}" if beta == 1.0 else f"{y} + {beta!r} * {c}"
    e.assign(y, identity(2))


@emitter("MatMul")
def matmul(e) -> None:
    """MatMul -> ``layers.Dense(use_bias=False)`` with a stored 2-D B, else ``ops.matmul``."""
    a_rank, b_shape = e.rank(0), e.in_shape(1)
    lay = e.layout(0) if a_rank >= 2 else None
    if e.const_input(1) and b_shape is not None and len(b_shape) == 2 and a_rank >= 2:
        kernel = e.const_value(1).astype(np.float32)
        if lay.order is not None:
            e.assign(_dense(e, e.arg(0), _rows(e, kernel, lay.order), None), identity(2))
            return
        x, out_lay = _last_axis_input(e)
        e.assign(_dense(e, x, kernel, None), out_lay)
        return
    a = e.arg(0, identity(a_rank))
    b = e.arg(1, identity(len(b_shape) if b_shape is not None else 2))
    e.assign(e.op("matmul", Code(a), Code(b)), identity(len(e.out_shape() or ())))
