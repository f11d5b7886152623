import numpy as np

from nnrosetta.ir.ops._spatial import check_nchw
from nnrosetta.ir.registry import Attr, op


@op("LRN", inputs=["X"], outputs=["Y"], attrs={
    "size": Attr("int", doc="window size (channels, or spatial side for within)"),
    "alpha": Attr("float", 1e-4, "scale of the sum of squares (divided by the window size)"),
    "beta": Attr("float", 0.75, "exponent"),
    "bias": Attr("float", 1.0, "added before the power (k)"),
    "region": Attr("str", "across", "across channels or within a channel",
                   choices=("across", "within")),
})
class LRN:
    """Local response normalization: ``y = x / (bias + alpha/n * sum_window x^2) ** beta``.

    ``across``: the window is ``size`` neighbouring channels (channels ``c - size//2`` to
    ``c + (size-1)//2``, zero outside), ``n = size``; as Caffe ``LRN`` ``ACROSS_CHANNELS``,
    ONNX ``LRN`` and PyTorch ``nn.LocalResponseNorm`` / ``F.local_response_norm``.

    ``within``: the window is a ``size x size`` spatial square in the same channel, zero
    padded by ``(size-1)//2`` before (and ``size//2`` after), ``n = size**2``; as Caffe
    ``LRN`` ``WITHIN_CHANNEL`` (where ``bias`` is 1). No ONNX or PyTorch layer: backends
    compose it, e.g. ``x / (bias + alpha * avg_pool2d(x**2, size, 1, pad)) ** beta``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        check_nchw(shapes[0], "LRN")
        if attrs["size"] < 1:
            raise ValueError(f"size must be >= 1, got {attrs['size']}")
        return [shapes[0]]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        LRN.infer(attrs, [x.shape], {})
        size = int(attrs["size"])
        sq = np.square(x.astype(np.float64))
        lo, hi = (size - 1) // 2, size - 1 - (size - 1) // 2
        if attrs["region"] == "across":
            lo, hi = size // 2, (size - 1) // 2
            p = np.pad(sq, ((0, 0), (lo, hi), (0, 0), (0, 0)))
            s = np.lib.stride_tricks.sliding_window_view(p, size, axis=1).sum(-1)
            n = size
        else:
            p = np.pad(sq, ((0, 0), (0, 0), (lo, hi), (lo, hi)))
            s = np.lib.stride_tricks.sliding_window_view(p, (size, size), axis=(2, 3))
            s = s.sum(axis=(-2, -1))
            n = size * size
        den = np.power(attrs["bias"] + attrs["alpha"] / n * s, attrs["beta"])
        return [(x / den).astype(x.dtype)]
