from nnrosetta_backend_pytorch.emitters import emitter


def _dims(*d) -> str:
    return ", ".join(str(int(v)) for v in d)


def check(c) -> list[str]:
    shape = c.in_shape()
    if shape is None:
        return ["the input shape is unknown"]
    return [] if len(shape) == 4 else [f"input rank {len(shape)}: needs 4-D NCHW input"]


@emitter("DepthToSpace", check=check)
def emit(e) -> None:
    b = int(e.attr("blocksize"))
    if e.attr("mode", "DCR") == "CRD":
        e.assign(f"{e.layer(f'nn.PixelShuffle({b})')}({e.x})")
        return
    n, c, h, w = e.in_shape()
    c2 = c // (b * b)
    e.line("# DepthToSpace DCR: channels are (block row, block column, channel)")
    e.assign(f"{e.x}.reshape({_dims(n, b, b, c2, h, w)}).permute(0, 3, 4, 1, 5, 2)"
             f".reshape({_dims(n, c2, h * b, w * b)})")


@emitter("SpaceToDepth", check=check)
def emit_space_to_depth(e) -> None:
    """CRD: nn.PixelUnshuffle (channels ordered channel, block row, block column); DCR: output
    channels ordered (block row, block column, channel), a reshape and permute."""
    b = int(e.attr("blocksize"))
    if e.attr("mode", "DCR") == "CRD":
        e.assign(f"{e.layer(f'nn.PixelUnshuffle({b})')}({e.x})")
        return
    n, c, h, w = e.in_shape()
    e.line("# SpaceToDepth: output channels are (block row, block column, channel)")
    e.assign(f"{e.x}.reshape({_dims(n, c, h // b, b, w // b, b)}).permute(0, 3, 5, 1, 2, 4)"
             f".reshape({_dims(n, c * b * b, h // b, w // b)})")
