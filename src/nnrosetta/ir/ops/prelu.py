import numpy as np

from nnrosetta.ir.registry import op


@op("PRelu", inputs=["X"], outputs=["Y"], weights={"slope": True}, weight_inputs=["slope"])
class PRelu:
    """Parametric rectifier: ``x if x >= 0 else slope[c] * x`` with a learned slope.

    ``slope`` is ``[C]`` (one per channel, axis 1) or ``[1]`` (shared by all channels); a
    slope of rank 2 or more broadcasts against ``x`` from the right instead (NumPy rules,
    e.g. ONNX's ``[C, 1, 1]``, or a slope computed at run time).

    Equivalents: Caffe ``PReLU`` (``channel_shared``), ONNX ``PRelu`` (slope ``[C, 1, 1]``),
    PyTorch ``nn.PReLU(num_parameters)``.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        sl = tuple(weights["slope"])
        channels = x[1] if len(x) > 1 else 1
        if len(sl) >= 2:
            if len(sl) > len(x) or np.broadcast_shapes(sl, x) != x:
                raise ValueError(f"slope shape {sl} does not broadcast to the input {x}")
            return [x]
        if sl not in ((1,), (channels,)):
            raise ValueError(f"slope shape {sl} must be (1,) or ({channels},)")
        return [x]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        PRelu.infer(attrs, [x.shape], {"slope": weights["slope"].shape})
        sl = weights["slope"].astype(x.dtype, copy=False)
        if sl.ndim < 2 and sl.size > 1:
            sl = sl.reshape((1, -1) + (1,) * (x.ndim - 2))
        return [np.where(x >= 0, x, x * sl).astype(x.dtype)]
