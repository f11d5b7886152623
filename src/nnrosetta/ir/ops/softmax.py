import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("Softmax", inputs=["X"], outputs=["Y"], attrs={
    "axis": Attr("int", 1, "the axis normalized over"),
})
class Softmax:
    """Softmax over one axis: ``y = exp(x) / sum_axis exp(x)``.

    Only ``axis`` is normalized (not the flattened trailing dims of ONNX opset < 13).

    Equivalents: Caffe ``Softmax`` (``axis``), ONNX ``Softmax`` (opset >= 13), PyTorch
    ``nn.Softmax(dim=axis)``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        if not -len(x) <= attrs["axis"] < len(x):
            raise ValueError(f"axis {attrs['axis']} out of range for shape {x}")
        return [x]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        Softmax.infer(attrs, [x.shape], {})
        e = np.exp(x - x.max(axis=attrs["axis"], keepdims=True))
        return [(e / e.sum(axis=attrs["axis"], keepdims=True)).astype(x.dtype)]
