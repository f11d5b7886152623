import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("Add", inputs=["X*"], outputs=["Y"], attrs={
    "coeffs": Attr("floats", [], "one coefficient per input; empty means all 1"),
})
class Add:
    """Weighted elementwise sum ``y = sum_i coeffs[i] * x_i`` (plain sum when coeffs is empty).

    Inputs broadcast as in NumPy (frontends normally give equal shapes).

    Equivalents: Caffe ``Eltwise`` ``SUM`` (with ``coeff``), ONNX ``Add``/``Sum``, PyTorch
    ``x + y`` (``a * x + b * y`` with coefficients).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        if attrs["coeffs"] and len(attrs["coeffs"]) != len(shapes):
            raise ValueError(f"{len(attrs['coeffs'])} coeffs for {len(shapes)} inputs")
        return [tuple(np.broadcast_shapes(*[tuple(s) for s in shapes]))]

    @staticmethod
    def reference(attrs, inputs, weights):
        Add.infer(attrs, [x.shape for x in inputs], {})
        dt = np.result_type(*inputs)
        coeffs = attrs["coeffs"] or [1.0] * len(inputs)
        y = None
        for c, x in zip(coeffs, inputs, strict=True):
            t = x if c == 1 else x * np.asarray(c, dt)
            y = t if y is None else y + t
        return [np.array(y, dtype=dt, copy=True)]
