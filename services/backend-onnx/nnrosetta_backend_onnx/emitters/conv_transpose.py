from nnrosetta_backend_onnx.emitters import emitter
from nnrosetta_backend_onnx.emitters._common import check_2d, ints


def check(c) -> list[str]:
    out = check_2d(c, ("kernel_shape", "strides", "dilations", "output_padding"))
    w = c.weight_shape("weight")
    if w is not None and len(w) != 4:
        out.append(f"weight shape {list(w)}: ConvTranspose needs [C, O/group, kh, kw]")
    return out


@emitter("ConvTranspose", check=check)
def emit(e) -> None:
    ins = [e.x, e.weight("weight")]
    if e.has_weight("bias"):
        ins.append(e.weight("bias", [-1]))
    e.final("ConvTranspose", ins, kernel_shape=ints(e.attr("kernel_shape")),
            strides=ints(e.attr("strides", [1, 1])), pads=ints(e.attr("pads", [0, 0, 0, 0])),
            dilations=ints(e.attr("dilations", [1, 1])), group=int(e.attr("group", 1)),
            output_padding=ints(e.attr("output_padding", [0, 0])))
