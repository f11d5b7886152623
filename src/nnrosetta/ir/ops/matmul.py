import numpy as np

from nnrosetta.ir.ops._axes import broadcast
from nnrosetta.ir.registry import Attr, op


def _matmul_shape(a, b):
    a, b = tuple(a), tuple(b)
    if not a or not b:
        raise ValueError(f"MatMul needs inputs of rank >= 1, got {a} and {b}")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ValueError(f"inner dims differ: {a} @ {b}")
    out = broadcast(a2[:-2], b2[:-2]) + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


@op("MatMul", inputs=["A", "B"], outputs=["Y"])
class MatMul:
    """Matrix product with ``numpy.matmul`` semantics: ``y = a @ b``.

    Inputs of rank > 2 are stacks of matrices (the leading dims broadcast); a 1-D ``a`` is a
    row vector and a 1-D ``b`` a column vector, their added dim removed from the result. A
    constant operand (a weight matrix) is a ``Constant`` node.

    Equivalents: ONNX ``MatMul``, PyTorch ``torch.matmul`` / ``a @ b``, TensorFlow
    ``tf.linalg.matmul`` (rank >= 2); Caffe has none (``InnerProduct`` is ``FullyConnected``).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [_matmul_shape(shapes[0], shapes[1])]

    @staticmethod
    def reference(attrs, inputs, weights):
        a, b = inputs
        MatMul.infer(attrs, [a.shape, b.shape], {})
        return [np.asarray(np.matmul(a, b), dtype=np.result_type(a, b))]


@op("Gemm", inputs=["A", "B", "C*"], outputs=["Y"], attrs={
    "alpha": Attr("float", 1.0, "multiplies A' @ B'"),
    "beta": Attr("float", 1.0, "multiplies C"),
    "transA": Attr("bool", False, "use A transposed"),
    "transB": Attr("bool", False, "use B transposed"),
})
class Gemm:
    """General matrix multiply: ``y = alpha * A' @ B' + beta * C`` on 2-D inputs.

    ``A'`` is ``A`` (``[M, K]``) or, with ``transA``, ``A.T`` (``A`` is ``[K, M]``); ``B'``
    likewise (``[K, N]``, or ``[N, K]`` with ``transB``). ``C`` is optional (zero or one
    input; absent means 0) and broadcasts to ``[M, N]``.

    Equivalents: ONNX ``Gemm``, PyTorch ``torch.addmm(c, a, b, beta=beta, alpha=alpha)``
    (``nn.Linear`` when ``transB`` and ``alpha = beta = 1`` with constant B, C), Caffe
    ``InnerProduct`` (with constant B, C), TensorFlow ``tf.linalg.matmul`` + add.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        if len(shapes) > 3:
            raise ValueError(f"Gemm takes 2 or 3 inputs, got {len(shapes)}")
        a, b = tuple(shapes[0]), tuple(shapes[1])
        if len(a) != 2 or len(b) != 2:
            raise ValueError(f"Gemm needs 2-D A and B, got {a} and {b}")
        m, k = a[::-1] if attrs["transA"] else a
        k2, n = b[::-1] if attrs["transB"] else b
        if k != k2:
            raise ValueError(f"inner dims differ: A' is {(m, k)}, B' is {(k2, n)}")
        if len(shapes) == 3:
            c = tuple(shapes[2])
            if len(c) > 2 or broadcast(c, (m, n)) != (m, n):
                raise ValueError(f"C shape {c} does not broadcast to {(m, n)}")
        return [(m, n)]

    @staticmethod
    def reference(attrs, inputs, weights):
        Gemm.infer(attrs, [x.shape for x in inputs], {})
        a, b = inputs[0], inputs[1]
        a = a.T if attrs["transA"] else a
        b = b.T if attrs["transB"] else b
        y = np.float32(attrs["alpha"]) * np.matmul(a, b)
        if len(inputs) == 3:
            y = y + np.float32(attrs["beta"]) * inputs[2]
        return [np.asarray(y, dtype=np.result_type(inputs[0], inputs[1]))]
