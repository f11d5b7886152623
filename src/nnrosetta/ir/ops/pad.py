import numpy as np

from nnrosetta.ir.registry import Attr, op

_NP_MODE = {"reflect": "reflect", "edge": "edge", "wrap": "wrap"}


def _pads(attrs, shape):
    p = [int(v) for v in attrs["pads"]]
    r = len(shape)
    if len(p) != 2 * r:
        raise ValueError(f"pads {p} must have 2 * rank = {2 * r} values")
    return p[:r], p[r:]


@op("Pad", inputs=["X"], outputs=["Y"], attrs={
    "pads": Attr("ints", doc="[x1_begin, x2_begin, ..., x1_end, x2_end, ...] for every dim "
                 "(negative crops)"),
    "mode": Attr("str", "constant", "how the border is filled",
                 choices=("constant", "reflect", "edge", "wrap")),
    "value": Attr("float", 0.0, "fill value of constant mode"),
})
class Pad:
    """Pads every dim by ``pads[i]`` before and ``pads[i + rank]`` after (ONNX order).

    Modes: ``constant`` fills with ``value``; ``reflect`` mirrors without repeating the edge
    (``np.pad`` semantics, repeating when a pad exceeds the dim); ``edge`` repeats the edge
    value; ``wrap`` continues periodically. Negative pads remove entries (before padding).

    Equivalents: ONNX ``Pad`` (``pads``/``value`` inputs since opset 11, ``wrap`` since 19),
    PyTorch ``F.pad`` (``replicate`` = edge, ``circular`` = wrap; pads listed last dim
    first), NumPy ``np.pad``, TensorFlow ``tf.pad`` (``REFLECT``/``SYMMETRIC``); Caffe
    convolution and pooling ``pad``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        begin, end = _pads(attrs, x)
        out = tuple(d + b + e for d, b, e in zip(x, begin, end, strict=True))
        if any(d + min(b, 0) + min(e, 0) < 0 for d, b, e in zip(x, begin, end, strict=True)):
            raise ValueError(f"pads {attrs['pads']} crop more than shape {x} has")
        if attrs["mode"] != "constant":
            for d, b, e in zip(x, begin, end, strict=True):
                if max(b, e) > 0 and d + min(b, 0) + min(e, 0) == 0:
                    raise ValueError(f"{attrs['mode']} padding of an empty dim in {x}")
        return [out]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        Pad.infer(attrs, [x.shape], {})
        begin, end = _pads(attrs, x.shape)
        crop = tuple(slice(max(-b, 0), d - max(-e, 0))
                     for d, b, e in zip(x.shape, begin, end, strict=True))
        x = x[crop]
        width = [(max(b, 0), max(e, 0)) for b, e in zip(begin, end, strict=True)]
        if attrs["mode"] == "constant":
            y = np.pad(x, width, mode="constant", constant_values=np.float32(attrs["value"]))
        else:
            y = np.pad(x, width, mode=_NP_MODE[attrs["mode"]])
        return [np.asarray(y, dtype=x.dtype)]
