"""GridSample (opset 16: bilinear / nearest / bicubic, 4-D; opset 20: linear / nearest /
cubic, N-D). X and Grid are both run-time inputs."""

from nnrosetta_frontend_onnx.importers._base import NodeIssue, Out, importer, node

_MODE = {"bilinear": "linear", "bicubic": "cubic", "linear": "linear", "cubic": "cubic",
         "nearest": "nearest"}


def _text(v, default: str) -> str:
    if v is None:
        return default
    return v.decode() if isinstance(v, bytes) else str(v)


@importer("GridSample", since=16, ir_ops=["GridSample"])
def grid_sample(onode, ctx) -> Out:
    mode = _text(onode.attr("mode"), "linear" if onode.opset >= 20 else "bilinear")
    if mode not in _MODE:
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: mode {mode!r}")
    pad = _text(onode.attr("padding_mode"), "zeros")
    if pad not in ("zeros", "border", "reflection"):
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: padding_mode {pad!r}")
    return Out([node(onode, "GridSample", [ctx.ref(onode.input(0)), ctx.ref(onode.input(1))],
                     mode=_MODE[mode], padding_mode=pad,
                     align_corners=bool(onode.attr("align_corners", 0)))])
