import math

import numpy as np

from nnrosetta.ir.registry import Attr, op


@op("FullyConnected", inputs=["X"], outputs=["Y"], attrs={
    "axis": Attr("int", 1, "dims from axis on are flattened into the features"),
}, weights={"weight": True, "bias": False})
class FullyConnected:
    """Affine layer ``y = x_flat @ weight.T + bias`` with ``weight [out, in]``.

    ``x`` is viewed as ``[prod(shape[:axis]), prod(shape[axis:])]`` (row-major, so NCHW
    features are flattened C, H, W); the output shape is ``shape[:axis] + [out]``.

    Equivalents: Caffe ``InnerProduct`` (its ``axis``), ONNX ``Gemm`` with ``transB=1`` after
    ``Flatten``, PyTorch ``nn.Linear`` after ``torch.flatten(x, axis)``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        axis = attrs["axis"] % len(x) if x else 0
        w = tuple(weights["weight"])
        feat = math.prod(x[axis:])
        if len(w) != 2 or w[1] != feat:
            raise ValueError(f"weight {w} does not fit {feat} input features (shape {x})")
        if "bias" in weights and tuple(weights["bias"]) != (w[0],):
            raise ValueError(f"bias shape {tuple(weights['bias'])} != ({w[0]},)")
        return [(*x[:axis], w[0])]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        out = FullyConnected.infer(attrs, [x.shape], {k: v.shape for k, v in weights.items()})
        w = weights["weight"].astype(x.dtype, copy=False)
        y = x.reshape(math.prod(out[0][:-1]), -1) @ w.T
        if "bias" in weights:
            y = y + weights["bias"].astype(x.dtype, copy=False)
        return [np.ascontiguousarray(y.reshape(out[0]), dtype=x.dtype)]
