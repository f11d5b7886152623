import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("Concat", inputs=["X*"], outputs=["Y"], attrs={
    "axis": Attr("int", 1, "the axis joined along"),
})
class Concat:
    """Joins its inputs along ``axis``; every other dimension must agree.

    Equivalents: Caffe ``Concat``, ONNX ``Concat``, PyTorch ``torch.cat(dim=axis)``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        first = tuple(shapes[0])
        ax = attrs["axis"]
        if not -len(first) <= ax < len(first):
            raise ValueError(f"axis {ax} out of range for shape {first}")
        ax %= len(first)
        total = 0
        for s in shapes:
            s = tuple(s)
            if len(s) != len(first) or s[:ax] + s[ax + 1:] != first[:ax] + first[ax + 1:]:
                raise ValueError(f"shapes {[tuple(t) for t in shapes]} differ off axis {ax}")
            total += s[ax]
        return [first[:ax] + (total,) + first[ax + 1:]]

    @staticmethod
    def reference(attrs, inputs, weights):
        Concat.infer(attrs, [x.shape for x in inputs], {})
        return [np.concatenate(inputs, axis=attrs["axis"])]
