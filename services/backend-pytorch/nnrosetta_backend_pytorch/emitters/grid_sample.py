from nnrosetta_backend_pytorch.emitters import emitter

_TORCH_MODE = {"linear": "bilinear", "nearest": "nearest", "cubic": "bicubic"}


def check(c) -> list[str]:
    """F.grid_sample takes 4-D (all modes) and 5-D (linear, nearest) inputs. Where PyTorch
    pads otherwise than ONNX (bicubic reflects/clamps each tap, nearest rounds after
    reflecting) the node is refused rather than emitted slightly wrong."""
    shape = c.in_shape()
    mode, pad = c.attr("mode", "linear"), c.attr("padding_mode", "zeros")
    if shape is None:
        return ["the input shape is unknown"]
    out = []
    if len(shape) not in (4, 5):
        out.append(f"a rank-{len(shape)} input: F.grid_sample samples 4-D and 5-D inputs only")
    elif len(shape) == 5 and mode == "cubic":
        out.append("cubic sampling of a 5-D input: F.grid_sample has no tricubic mode")
    if mode == "cubic" and pad != "zeros":
        out.append(f"cubic with padding_mode={pad!r}: PyTorch pads each cubic tap, ONNX the "
                   "sampling coordinate first (results differ near the border)")
    if mode == "nearest" and pad == "reflection":
        out.append("nearest with reflection padding: PyTorch reflects before rounding, ONNX "
                   "after (results differ at half-way coordinates)")
    return out


@emitter("GridSample", check=check)
def emit(e) -> None:
    args = [e.x, e.inputs[1], f'mode="{_TORCH_MODE[e.attr("mode", "linear")]}"',
            f'padding_mode="{e.attr("padding_mode", "zeros")}"',
            f"align_corners={bool(e.attr('align_corners', False))}"]
    e.assign(f"F.grid_sample({', '.join(args)})")
