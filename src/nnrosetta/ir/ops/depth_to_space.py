import numpy as np

from nnrosetta.ir.registry import Attr, op


def _check(x, b, op_name):
    if len(x) != 4:
        raise ValueError(f"{op_name} needs a 4-D NCHW input, got {tuple(x)}")
    if b < 1:
        raise ValueError(f"blocksize must be >= 1, got {b}")


@op("DepthToSpace", inputs=["X"], outputs=["Y"], attrs={
    "blocksize": Attr("int", doc="side of the spatial block each pixel becomes"),
    "mode": Attr("str", "DCR", "channel order: DCR (depth-column-row) or CRD (column-row-"
                 "depth)", choices=("DCR", "CRD")),
})
class DepthToSpace:
    """Moves channel blocks into space: ``(N, C, H, W) -> (N, C / b², H * b, W * b)``.

    ``DCR``: ``x.reshape(N, b, b, C/b², H, W).transpose(0, 3, 4, 1, 5, 2)``; ``CRD``:
    ``x.reshape(N, C/b², b, b, H, W).transpose(0, 1, 4, 2, 5, 3)``; then
    ``reshape(N, C/b², H*b, W*b)``.

    Equivalents: ONNX ``DepthToSpace``, PyTorch ``nn.PixelShuffle(b)`` (= ``CRD``),
    TensorFlow ``tf.nn.depth_to_space`` (= ``DCR``, in NHWC).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x, b = tuple(shapes[0]), attrs["blocksize"]
        _check(x, b, "DepthToSpace")
        n, c, h, w = x
        if c % (b * b):
            raise ValueError(f"channels {c} not divisible by blocksize² {b * b}")
        return [(n, c // (b * b), h * b, w * b)]

    @staticmethod
    def reference(attrs, inputs, weights):
        x, b = inputs[0], attrs["blocksize"]
        out = DepthToSpace.infer(attrs, [x.shape], {})[0]
        n, c, h, w = x.shape
        if attrs["mode"] == "DCR":
            t = x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
        else:
            t = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
        return [np.ascontiguousarray(t.reshape(out))]


@op("SpaceToDepth", inputs=["X"], outputs=["Y"], attrs={
    "blocksize": Attr("int", doc="side of the spatial block folded into channels"),
    "mode": Attr("str", "DCR", "output channel order: DCR (block row, block column, channel) "
                 "or CRD (channel, block row, block column)", choices=("DCR", "CRD")),
})
class SpaceToDepth:
    """Moves spatial blocks into channels: ``(N, C, H, W) -> (N, C * b², H / b, W / b)``,
    the inverse of ``DepthToSpace`` in the same ``mode``.

    ``x.reshape(N, C, H/b, b, W/b, b)``, then ``DCR``: ``.transpose(0, 3, 5, 1, 2, 4)``
    (channels ordered ``b, b, C``); ``CRD``: ``.transpose(0, 1, 3, 5, 2, 4)`` (channels
    ordered ``C, b, b``); then ``reshape(N, C*b², H/b, W/b)``.

    Equivalents: ONNX ``SpaceToDepth`` (``mode`` since opset 28; ``DCR`` before),
    TensorFlow ``tf.nn.space_to_depth`` (= ``DCR``, in NHWC), PyTorch
    ``nn.PixelUnshuffle(b)`` (= ``CRD``).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x, b = tuple(shapes[0]), attrs["blocksize"]
        _check(x, b, "SpaceToDepth")
        n, c, h, w = x
        if h % b or w % b:
            raise ValueError(f"spatial dims {(h, w)} not divisible by blocksize {b}")
        return [(n, c * b * b, h // b, w // b)]

    @staticmethod
    def reference(attrs, inputs, weights):
        x, b = inputs[0], attrs["blocksize"]
        out = SpaceToDepth.infer(attrs, [x.shape], {})[0]
        n, c, h, w = x.shape
        perm = (0, 3, 5, 1, 2, 4) if attrs["mode"] == "DCR" else (0, 1, 3, 5, 2, 4)
        t = x.reshape(n, c, h // b, b, w // b, b).transpose(perm)
        return [np.ascontiguousarray(t.reshape(out))]
