import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("Shrink", inputs=["X"], outputs=["Y"], attrs={
    "bias": Attr("float", 0.0, "moved towards 0 by this much outside the dead zone"),
    "lambd": Attr("float", 0.5, "half width of the dead zone"),
})
class Shrink:
    """Shrinkage: ``y = x + bias`` if x < -lambd, else ``x - bias`` if x > lambd, else 0,
    elementwise (the first condition wins when both hold, i.e. lambd < 0).

    Equivalents: ONNX ``Shrink``; PyTorch ``nn.Hardshrink(lambd)`` when bias = 0,
    ``nn.Softshrink(lambd)`` when bias = lambd, else ``torch.where``; TensorFlow Addons
    ``hardshrink`` / ``softshrink``. Caffe has none.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [tuple(shapes[0])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        dt = x.dtype
        b, lam = np.asarray(attrs["bias"], dt), np.asarray(attrs["lambd"], dt)
        y = np.where(x < -lam, x + b, np.where(x > lam, x - b, np.zeros((), dt)))
        return [y.astype(dt)]
