import numpy as np

from nnrosetta.ir.ops._elementwise import erf
from nnrosetta.ir.registry import Attr, op


@op("Gelu", inputs=["X"], outputs=["Y"], attrs={
    "approximate": Attr("str", "none", "\"none\": exact (erf); \"tanh\": the tanh approximation",
                        choices=("none", "tanh")),
})
class Gelu:
    """Gaussian error linear unit: ``y = x / 2 * (1 + erf(x / sqrt(2)))``, elementwise; with
    ``approximate="tanh"``, ``y = x / 2 * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x ** 3)))``.

    Equivalents: ONNX ``Gelu`` (opset 20; earlier exporters write Div/Erf/Add/Mul), PyTorch
    ``nn.GELU(approximate=...)``, TensorFlow ``tf.nn.gelu(x, approximate=...)``. Caffe has
    none.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [tuple(shapes[0])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        x64 = x.astype(np.float64)
        if attrs["approximate"] == "tanh":
            inner = np.sqrt(2.0 / np.pi) * (x64 + 0.044715 * x64 ** 3)
            y = 0.5 * x64 * (1.0 + np.tanh(inner))
        else:
            y = 0.5 * x64 * (1.0 + erf(x64 / np.sqrt(2.0)))
        return [y.astype(x.dtype)]
