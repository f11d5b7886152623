import numpy as np

from nnrosetta.ir.ops._axes import broadcast
from nnrosetta.ir.registry import Attr, op


@op("Expand", inputs=["X"], outputs=["Y"], attrs={
    "shape": Attr("ints", doc="the shape x is broadcast with (NumPy rules, both ways)"),
})
class Expand:
    """Broadcasts ``x`` to ``broadcast(x.shape, shape)`` (NumPy rules: a size-1 dim of either
    side takes the other's size, missing leading dims count as 1).

    Equivalents: ONNX ``Expand`` (``shape`` an input; frontends fold it), PyTorch
    ``x.expand(out_shape)``, NumPy ``np.broadcast_to(x, out_shape)``, TensorFlow
    ``tf.broadcast_to``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        if min(attrs["shape"], default=1) < 0:
            raise ValueError(f"negative dim in shape {list(attrs['shape'])}")
        return [broadcast(shapes[0], attrs["shape"])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        return [np.array(np.broadcast_to(x, Expand.infer(attrs, [x.shape], {})[0]), copy=True)]


@op("Tile", inputs=["X"], outputs=["Y"], attrs={
    "repeats": Attr("ints", doc="copies along each dim (one per dim of x)"),
})
class Tile:
    """Repeats the whole tensor ``repeats[i]`` times along each dim ``i``:
    ``y.shape[i] = x.shape[i] * repeats[i]``.

    Equivalents: ONNX ``Tile`` (``repeats`` an input; frontends fold it), PyTorch
    ``x.repeat(repeats)`` / ``torch.tile``, NumPy ``np.tile``, TensorFlow ``tf.tile``; Caffe
    ``Tile`` repeats one axis.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x, r = tuple(shapes[0]), [int(v) for v in attrs["repeats"]]
        if len(r) != len(x) or min(r, default=0) < 0:
            raise ValueError(f"repeats {r} must be {len(x)} non-negative counts")
        return [tuple(d * k for d, k in zip(x, r, strict=True))]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        Tile.infer(attrs, [x.shape], {})
        return [np.tile(x, [int(v) for v in attrs["repeats"]]) if x.ndim else x.copy()]
