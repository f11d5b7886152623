from nnrosetta.ir.ops._spatial import conv_issues
from nnrosetta_backend_onnx.emitters import emitter
from nnrosetta_backend_onnx.emitters._common import ints
from nnrosetta_backend_onnx.emitters.conv import conv_attrs


def check(c) -> list[str]:
    return conv_issues(c, "ConvTranspose", "[C, O/group, *kernel]", ("output_padding",))


@emitter("ConvTranspose", check=check)
def emit(e) -> None:
    ins = [e.x, e.weight("weight")]
    if e.has_weight("bias"):
        ins.append(e.weight("bias", [-1]))
    attrs = conv_attrs(e)
    n = len(attrs["kernel_shape"])
    e.final("ConvTranspose", ins, **attrs,
            output_padding=ints(e.attr("output_padding") or [0] * n))
