import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("Elu", inputs=["X"], outputs=["Y"], attrs={
    "alpha": Attr("float", 1.0, "scale of the negative part"),
})
class Elu:
    """Exponential linear unit: ``x if x > 0 else alpha * (exp(x) - 1)``, elementwise.

    Equivalents: Caffe ``ELU``, ONNX ``Elu``, PyTorch ``nn.ELU(alpha)``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [shapes[0]]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        neg = np.asarray(attrs["alpha"], x.dtype) * np.expm1(np.minimum(x, 0))
        return [np.where(x > 0, x, neg).astype(x.dtype)]
