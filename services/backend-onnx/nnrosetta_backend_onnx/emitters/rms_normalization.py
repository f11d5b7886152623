"""RMSNormalization: the ONNX op at opset >= 23, composed before (x / sqrt(mean(x * x) + eps)
* scale, as the op's function body)."""

import numpy as np

from nnrosetta_backend_onnx.emitters import emitter


def check(c) -> list[str]:
    if c.opset < 23 and c.in_rank() is None:
        return ["the input rank is unknown (needed for the reduced axes below opset 23)"]
    return []


@emitter("RMSNormalization", check=check)
def emit(e) -> None:
    axis = int(e.attr("axis", -1))
    eps = float(e.attr("epsilon", 1e-5))
    scale = e.inputs[1]
    if e.opset >= 23:
        e.final("RMSNormalization", [e.x, scale], axis=axis, epsilon=eps,
                stash_type=int(e.attr("stash_type", 1)))
        return
    rank = e.in_rank()
    axes = list(range(axis % rank, rank))
    sq = e.node("Mul", [e.x, e.x])
    if e.opset >= 18:
        mean = e.node("ReduceMean", [sq, e.ints(axes, "axes")], {"keepdims": 1})
    else:
        mean = e.node("ReduceMean", [sq], {"axes": axes, "keepdims": 1})
    rms = e.node("Sqrt", [e.node("Add", [mean, e.const(np.float32(eps), hint="epsilon")])])
    e.final("Mul", [e.node("Div", [e.x, rms]), scale])
