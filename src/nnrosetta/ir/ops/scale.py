from nnrosetta.ir.registry import Attr, op


def _bshape(xshape, axis, wshape):
    nd = len(xshape)
    if not -nd <= axis < nd:
        raise ValueError(f"axis {axis} out of range for shape {tuple(xshape)}")
    axis %= nd
    wshape = tuple(wshape)
    if tuple(xshape[axis:axis + len(wshape)]) != wshape:
        raise ValueError(f"weight shape {wshape} does not match shape {tuple(xshape)} "
                         f"from axis {axis}")
    return wshape + (1,) * (nd - axis - len(wshape))


@op("Scale", inputs=["X"], outputs=["Y"], attrs={
    "axis": Attr("int", 1, "first axis of x that the weight shapes align with"),
}, weights={"scale": True, "bias": False})
class Scale:
    """Learned per-element affine map ``y = x * scale + bias``, broadcast from ``axis``.

    ``scale`` (and ``bias``) have the shape of ``x``'s dims ``axis .. axis + scale.ndim - 1``
    (usually ``[C]`` at ``axis = 1``); they broadcast over every other dim.

    Equivalents: Caffe ``Scale`` (``bias_term``; as one weight, not a second bottom), ONNX
    ``Mul`` + ``Add`` with constants, PyTorch ``x * s.view(1, C, 1, 1) + b.view(1, C, 1, 1)``
    (the affine part of ``nn.BatchNorm2d``).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        for s in weights.values():
            _bshape(x, attrs["axis"], s)
        return [x]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        s = weights["scale"]
        y = x * s.astype(x.dtype, copy=False).reshape(_bshape(x.shape, attrs["axis"], s.shape))
        if "bias" in weights:
            b = weights["bias"]
            y = y + b.astype(x.dtype, copy=False).reshape(_bshape(x.shape, attrs["axis"], b.shape))
        return [y.astype(x.dtype, copy=False)]
