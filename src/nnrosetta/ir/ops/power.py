import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("Power", inputs=["X"], outputs=["Y"], attrs={
    "power": Attr("float", 1.0, "exponent"),
    "scale": Attr("float", 1.0, "multiplier applied before the shift"),
    "shift": Attr("float", 0.0, "added after scaling"),
})
class Power:
    """Affine then power: ``y = (shift + scale * x) ** power``, elementwise.

    Equivalents: Caffe ``Power``; ONNX ``Mul``/``Add``/``Pow`` with constants; PyTorch
    ``(shift + scale * x) ** power``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [shapes[0]]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        dt = x.dtype
        t = np.asarray(attrs["shift"], dt) + np.asarray(attrs["scale"], dt) * x
        p = float(attrs["power"])
        if p != 1.0:
            t = np.power(t, np.asarray(p, dt))
        return [np.asarray(t, dtype=dt)]
