import math

import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("Reshape", inputs=["X"], outputs=["Y"], attrs={
    "shape": Attr("ints", doc="target shape; 0 copies the input dim, -1 is inferred"),
})
class Reshape:
    """Gives the data a new shape (row-major order unchanged).

    In ``shape``, ``0`` copies the input dim at the same index and one ``-1`` is inferred
    from the element count.

    Equivalents: Caffe ``Reshape`` (whole-blob form), ONNX ``Reshape`` (``allowzero = 0``),
    PyTorch ``x.reshape(shape)`` after substituting the zeros.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        out = []
        for i, d in enumerate(attrs["shape"]):
            if d == 0:
                if i >= len(x):
                    raise ValueError(f"shape {attrs['shape']}: no input dim {i} to copy")
                out.append(x[i])
            elif d == -1 or d > 0:
                out.append(d)
            else:
                raise ValueError(f"invalid dim {d} in shape {attrs['shape']}")
        total = math.prod(x)
        if out.count(-1) > 1:
            raise ValueError(f"more than one -1 in shape {attrs['shape']}")
        if -1 in out:
            known = math.prod(d for d in out if d != -1)
            if known == 0 or total % known:
                raise ValueError(f"cannot reshape {x} to {attrs['shape']}")
            out[out.index(-1)] = total // known
        if math.prod(out) != total:
            raise ValueError(f"cannot reshape {x} ({total} elements) to {out}")
        return [tuple(out)]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        return [np.array(x.reshape(Reshape.infer(attrs, [x.shape], {})[0]), copy=True)]
