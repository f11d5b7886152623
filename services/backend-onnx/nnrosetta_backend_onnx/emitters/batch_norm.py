import numpy as np

from nnrosetta_backend_onnx.emitters import emitter


def check(c) -> list[str]:
    r = c.in_rank()
    if r is not None and r < 2:
        return [f"input rank {r}: BatchNorm needs N, C, ..."]
    return []


@emitter("BatchNorm", check=check)
def emit(e) -> None:
    """BatchNormalization (inference); absent scale/bias become ones/zeros. ONNX's momentum is
    the weight of the old running value (1 - the IR's PyTorch-style momentum)."""
    n = int(np.prod(e.weight_shape("mean")))
    scale = e.weight("scale", [-1]) if e.has_weight("scale") else \
        e.const(np.ones(n, np.float32), hint="scale")
    bias = e.weight("bias", [-1]) if e.has_weight("bias") else \
        e.const(np.zeros(n, np.float32), hint="bias")
    e.final("BatchNormalization", [e.x, scale, bias, e.weight("mean", [-1]),
                                   e.weight("var", [-1])],
            epsilon=float(e.attr("epsilon", 1e-5)),
            momentum=1.0 - float(e.attr("momentum", 0.1)))
