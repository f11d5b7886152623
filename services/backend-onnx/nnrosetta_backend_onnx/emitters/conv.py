from nnrosetta.ir.ops._spatial import conv_issues
from nnrosetta_backend_onnx.emitters import emitter
from nnrosetta_backend_onnx.emitters._common import ints


def conv_attrs(e) -> dict:
    """kernel_shape, strides, pads, dilations, group with [] defaults filled in per axis."""
    k = ints(e.attr("kernel_shape"))
    n = len(k)
    return {"kernel_shape": k, "strides": ints(e.attr("strides") or [1] * n),
            "pads": ints(e.attr("pads") or [0] * (2 * n)),
            "dilations": ints(e.attr("dilations") or [1] * n),
            "group": int(e.attr("group", 1))}


def check(c) -> list[str]:
    return conv_issues(c, "Conv", "[O, I/group, *kernel]")


@emitter("Conv", check=check)
def emit(e) -> None:
    ins = [e.x, e.weight("weight")]
    if e.has_weight("bias"):
        ins.append(e.weight("bias", [-1]))
    e.final("Conv", ins, **conv_attrs(e))
