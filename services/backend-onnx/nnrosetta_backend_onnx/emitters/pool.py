from nnrosetta_backend_onnx.emitters import emitter
from nnrosetta_backend_onnx.emitters._common import check_2d, ints


def check(c) -> list[str]:
    if c.attr("global_pooling", False):
        return []
    out = check_2d(c, ("kernel_shape", "strides"))
    if not c.attr("kernel_shape"):
        out.append("kernel_shape is required unless global_pooling")
    elif c.attr("ceil_mode", False) and (c.in_shape() is None or c.out_shape() is None):
        out.append("ceil_mode needs the input shape (shape inference failed)")
    return out


@emitter("Pool", check=check)
def emit(e) -> None:
    """MaxPool / AveragePool / GlobalMaxPool / GlobalAveragePool, always with ceil_mode=0.

    ceil_mode is written out as extra end padding: ONNX's shape inference keeps a last window
    that starts inside the end padding while onnxruntime (like the IR, Caffe and PyTorch)
    drops it, so a model with ceil_mode=1 would not mean one thing. The extra region never
    counts: max ignores padding; an average that counts the real padding gets that padding
    as an explicit zero Pad first and then excludes the (extra) pooling padding."""
    mode = e.attr("mode", "max")
    if e.attr("global_pooling", False):
        e.final("GlobalMaxPool" if mode == "max" else "GlobalAveragePool", [e.x])
        return
    k = ints(e.attr("kernel_shape"))
    s = ints(e.attr("strides", [1, 1]))
    p = ints(e.attr("pads", [0, 0, 0, 0]))
    include = bool(e.attr("count_include_pad", True))
    ext = [0, 0]
    if e.attr("ceil_mode", False):
        shape, want = e.in_shape(), e.out_shape()
        ext = [max(0, (want[2 + a] - 1) * s[a] + k[a] - (shape[2 + a] + p[a] + p[a + 2]))
               for a in range(2)]
    op = "MaxPool" if mode == "max" else "AveragePool"
    x = e.x
    attrs = {"kernel_shape": k, "strides": s}
    if mode == "max":
        attrs["pads"] = [p[0], p[1], p[2] + ext[0], p[3] + ext[1]]
    elif not include or not any(ext):
        attrs["pads"] = [p[0], p[1], p[2] + ext[0], p[3] + ext[1]]
        attrs["count_include_pad"] = int(include)
    else:
        if any(p):
            x = e.node("Pad", [x, e.ints([0, 0, p[0], p[1], 0, 0, p[2], p[3]], "pads")])
        attrs["pads"] = [0, 0, ext[0], ext[1]]
        attrs["count_include_pad"] = 0
    e.final(op, [x], **attrs)
