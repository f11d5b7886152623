import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("Dropout", inputs=["X"], outputs=["Y"], attrs={
    "ratio": Attr("float", 0.5, "probability of zeroing an element while training"),
})
class Dropout:
    """Dropout; identity at inference (``y = x``), kept so backends can emit a training layer.

    ``ratio`` is the drop probability while training (inverted dropout: kept values are
    scaled by ``1 / (1 - ratio)`` while training, nothing at inference).

    Equivalents: Caffe ``Dropout`` (``dropout_ratio``), ONNX ``Dropout``, PyTorch
    ``nn.Dropout(p)``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [shapes[0]]

    @staticmethod
    def reference(attrs, inputs, weights):
        return [np.array(inputs[0], copy=True)]
