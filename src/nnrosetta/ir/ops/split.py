import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("Split", inputs=["X"], outputs=["Y*"], attrs={
    "axis": Attr("int", 1, "the axis cut along"),
    "split": Attr("ints", doc="size of each output along axis (they sum to the input's)"),
})
class Split:
    """Cuts its input along ``axis`` into ``len(split)`` consecutive pieces of the given sizes.

    Output ``i`` is ``"name:i"``.

    Equivalents: Caffe ``Slice`` (``slice_point`` = running sums of ``split``), ONNX
    ``Split``, PyTorch ``torch.split(x, split, dim=axis)``.
    """

    @staticmethod
    def num_outputs(attrs):
        return len(attrs["split"])

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        ax = attrs["axis"]
        if not -len(x) <= ax < len(x):
            raise ValueError(f"axis {ax} out of range for shape {x}")
        ax %= len(x)
        sizes = list(attrs["split"])
        if not sizes or min(sizes) < 0 or sum(sizes) != x[ax]:
            raise ValueError(f"split {sizes} does not add up to dim {x[ax]} of {x}")
        return [x[:ax] + (s,) + x[ax + 1:] for s in sizes]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        Split.infer(attrs, [x.shape], {})
        cuts = np.cumsum(attrs["split"])[:-1]
        return [np.array(p, copy=True) for p in np.split(x, cuts, axis=attrs["axis"])]
