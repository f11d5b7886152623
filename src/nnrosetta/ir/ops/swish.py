"""Swish and the gated SwiGLU."""

import numpy as np

from nnrosetta.ir.registry import Attr, op


def swish(x: np.ndarray, alpha: float) -> np.ndarray:
    """x * sigmoid(alpha * x) in float64 (stable for large |x|)."""
    x64 = np.asarray(x, dtype=np.float64)
    z = alpha * x64
    sig = np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))),
                   np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))
    return x64 * sig


@op("Swish", inputs=["X"], outputs=["Y"], attrs={
    "alpha": Attr("float", 1.0, "the sigmoid's slope"),
})
class Swish:
    """``y = x * sigmoid(alpha * x)``, elementwise (SiLU when ``alpha`` is 1).

    Equivalents: ONNX ``Swish`` (opset 24; earlier: ``x * Sigmoid(alpha * x)``), PyTorch
    ``nn.SiLU()`` (alpha 1) or ``x * torch.sigmoid(alpha * x)``, TensorFlow
    ``tf.nn.silu(x, beta=alpha)``. Caffe ``Swish`` (``beta``) in some forks.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [tuple(shapes[0])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        return [swish(x, float(attrs["alpha"])).astype(x.dtype)]


@op("SwiGLU", inputs=["A", "B"], outputs=["Y"], attrs={
    "alpha": Attr("float", 1.0, "the gate's sigmoid slope"),
})
class SwiGLU:
    """Swish-gated linear unit: ``y = a * sigmoid(alpha * a) * b`` (``Swish(a) * b``) for a
    gate ``a`` and a value ``b`` of the same shape (no broadcasting).

    Equivalents: ONNX ``SwiGLU`` (opset 28; earlier: ``Swish``/``Sigmoid`` and ``Mul``),
    PyTorch ``F.silu(a) * b`` (alpha 1), as in Llama's MLP ``silu(gate_proj(x)) *
    up_proj(x)``. Caffe has none.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        a, b = tuple(shapes[0]), tuple(shapes[1])
        if a != b:
            raise ValueError(f"SwiGLU needs inputs of one shape, got {list(a)} and {list(b)}")
        return [a]

    @staticmethod
    def reference(attrs, inputs, weights):
        a, b = inputs
        y = swish(a, float(attrs["alpha"])) * b.astype(np.float64)
        return [y.astype(a.dtype)]
