"""Ops that move data: Transpose, Squeeze, Unsqueeze, Slice, Gather, Pad, Expand, Tile,
DepthToSpace, SpaceToDepth."""

from nnrosetta_backend_onnx.emitters import emitter
from nnrosetta_backend_onnx.emitters._common import ints


@emitter("Transpose")
def emit_transpose(e) -> None:
    perm = ints(e.attr("perm", []))
    e.final("Transpose", [e.x], **({"perm": perm} if perm else {}))


@emitter("Squeeze")
def emit_squeeze(e) -> None:
    axes = ints(e.attr("axes", []))
    e.final("Squeeze", [e.x] + ([e.ints(axes, "axes")] if axes else []))


@emitter("Unsqueeze")
def emit_unsqueeze(e) -> None:
    e.final("Unsqueeze", [e.x, e.ints(e.attr("axes"), "axes")])


@emitter("Slice")
def emit_slice(e) -> None:
    starts = ints(e.attr("starts"))
    ins = [e.x, e.ints(starts, "starts"), e.ints(e.attr("ends"), "ends")]
    axes, steps = ints(e.attr("axes", [])), ints(e.attr("steps", []))
    if axes or steps:
        ins.append(e.ints(axes or list(range(len(starts))), "axes"))
    if steps:
        ins.append(e.ints(steps, "steps"))
    e.final("Slice", ins)


@emitter("Gather")
def emit_gather(e) -> None:
    e.final("Gather", [e.inputs[0], e.inputs[1]], dtype=e.b.dtypes.get(e.inputs[0], 1),
            axis=int(e.attr("axis", 0)))


def check_pad(c) -> list[str]:
    if c.attr("mode", "constant") == "wrap" and c.opset < 19:
        return ["Pad mode 'wrap' needs opset 19 or newer"]
    return []


@emitter("Pad", check=check_pad)
def emit_pad(e) -> None:
    import numpy as np

    ins = [e.x, e.ints(e.attr("pads"), "pads")]
    mode = str(e.attr("mode", "constant"))
    if mode == "constant" and float(e.attr("value", 0.0)) != 0.0:
        ins.append(e.const(np.float32(e.attr("value")), hint="value"))
    e.final("Pad", ins, mode=mode)


@emitter("Expand")
def emit_expand(e) -> None:
    e.final("Expand", [e.x, e.ints(e.attr("shape"), "shape")])


@emitter("Tile")
def emit_tile(e) -> None:
    e.final("Tile", [e.x, e.ints(e.attr("repeats"), "repeats")])


@emitter("DepthToSpace")
def emit_d2s(e) -> None:
    e.final("DepthToSpace", [e.x], blocksize=int(e.attr("blocksize")),
            mode=str(e.attr("mode", "DCR")))


@emitter("SpaceToDepth")
def emit_s2d(e) -> None:
    e.final("SpaceToDepth", [e.x], blocksize=int(e.attr("blocksize")))
