from nnrosetta_backend_onnx.emitters import emitter
from nnrosetta_backend_onnx.emitters._common import ints


def conv_check(c, op_name: str, wdoc: str, extra: tuple[str, ...] = ()) -> list[str]:
    """1 to 3 spatial axes (the length of kernel_shape), per-axis attributes to match."""
    k = c.attr("kernel_shape") or []
    n = len(k)
    if not 1 <= n <= 3:
        return [f"kernel_shape={list(k)}: 1 to 3 spatial axes are supported"]
    out = []
    for key in ("strides", "dilations", *extra):
        v = c.attr(key) or []
        if len(v) not in (0, n):
            out.append(f"{key}={list(v)}: needs one value per spatial axis ({n})")
    p = c.attr("pads") or []
    if len(p) not in (0, 2 * n):
        out.append(f"pads={list(p)}: needs {2 * n} values (begin per axis, then end)")
    elif p and min(p) < 0:
        out.append(f"pads={list(p)}: negative pads are not supported")
    w = c.weight_shape("weight")
    if w is not None and len(w) != n + 2:
        out.append(f"weight shape {list(w)}: {op_name} needs {wdoc} with {n} kernel axes")
    return out


def conv_attrs(e) -> dict:
    """kernel_shape, strides, pads, dilations, group with [] defaults filled in per axis."""
    k = ints(e.attr("kernel_shape"))
    n = len(k)
    return {"kernel_shape": k, "strides": ints(e.attr("strides") or [1] * n),
            "pads": ints(e.attr("pads") or [0] * (2 * n)),
            "dilations": ints(e.attr("dilations") or [1] * n),
            "group": int(e.attr("group", 1))}


def check(c) -> list[str]:
    return conv_check(c, "Conv", "[O, I/group, *kernel]")


@emitter("Conv", check=check)
def emit(e) -> None:
    ins = [e.x, e.weight("weight")]
    if e.has_weight("bias"):
        ins.append(e.weight("bias", [-1]))
    e.final("Conv", ins, **conv_attrs(e))
