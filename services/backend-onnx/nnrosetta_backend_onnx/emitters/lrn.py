import numpy as np

from nnrosetta_backend_onnx.emitters import emitter


@emitter("LRN")
def emit(e) -> None:
    """across, odd size: ONNX LRN. across, even size: ONNX LRN centres its window one channel
    later than the IR (Caffe, PyTorch), so it is composed: a 3-D AveragePool of x^2 over the
    channel axis. within (no ONNX op): x / (bias + alpha * AveragePool(x^2)) ** beta."""
    size = int(e.attr("size"))
    alpha, beta, bias = (float(e.attr(k)) for k in ("alpha", "beta", "bias"))
    if e.attr("region", "across") == "across" and size % 2 == 1:
        e.final("LRN", [e.x], size=size, alpha=alpha, beta=beta, bias=bias)
        return
    sq = e.node("Mul", [e.x, e.x])
    if e.attr("region", "across") == "across":
        lo, hi = size // 2, (size - 1) // 2
        sq5 = e.node("Unsqueeze", [sq, e.ints([1], "axes")])
        avg5 = e.node("AveragePool", [sq5], {"kernel_shape": [size, 1, 1],
                                             "pads": [lo, 0, 0, hi, 0, 0],
                                             "count_include_pad": 1})
        avg = e.node("Squeeze", [avg5, e.ints([1], "axes")])
    else:
        lo, hi = (size - 1) // 2, size // 2
        avg = e.node("AveragePool", [sq], {"kernel_shape": [size, size],
                                           "pads": [lo, lo, hi, hi], "count_include_pad": 1})
    den = e.node("Mul", [avg, e.const(np.float32(alpha), hint="alpha")])
    den = e.node("Add", [den, e.const(np.float32(bias), hint="bias")])
    den = e.node("Pow", [den, e.const(np.float32(beta), hint="beta")])
    e.final("Div", [e.x, den])
