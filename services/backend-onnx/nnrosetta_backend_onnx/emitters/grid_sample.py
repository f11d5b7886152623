"""GridSample: opset 16 (4-D; modes bilinear / nearest / bicubic), 20 (N-D; linear / nearest /
cubic)."""

from nnrosetta_backend_onnx.emitters import emitter

_OPSET16 = {"linear": "bilinear", "nearest": "nearest", "cubic": "bicubic"}


def check(c) -> list[str]:
    if c.opset < 16:
        return ["GridSample needs opset >= 16"]
    rank = c.in_rank()
    if c.opset < 20 and rank is not None and rank != 4:
        return [f"GridSample of a rank-{rank} input needs opset >= 20 (opset 16 samples 4-D "
                "inputs only)"]
    return []


@emitter("GridSample", check=check)
def emit(e) -> None:
    mode = e.attr("mode", "linear")
    e.final("GridSample", [e.x, e.inputs[1]],
            mode=mode if e.opset >= 20 else _OPSET16[mode],
            padding_mode=e.attr("padding_mode", "zeros"),
            align_corners=int(bool(e.attr("align_corners", False))))
