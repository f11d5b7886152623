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


def check_s2d(c) -> list[str]:
    if c.attr("mode", "DCR") == "CRD" and c.opset < 28 and c.in_rank() not in (None, 4):
        return [f"SpaceToDepth CRD below opset 28 needs a 4-D input, got rank {c.in_rank()}"]
    return []


@emitter("SpaceToDepth", check=check_s2d)
def emit_s2d(e) -> None:
    """SpaceToDepth; mode CRD is native from opset 28, below it a Reshape / Transpose /
    Reshape (a DCR SpaceToDepth is the same as before opset 28: it has no mode attribute)."""
    b = int(e.attr("blocksize"))
    mode = str(e.attr("mode", "DCR"))
    if mode == "DCR" or e.opset >= 28:
        e.final("SpaceToDepth", [e.x], blocksize=b, **({"mode": mode} if mode != "DCR" else {}))
        return
    n, c, h, w = (int(d) for d in e.in_shape())
    t = e.node("Reshape", [e.x, e.ints([n, c, h // b, b, w // b, b], "blocks")])
    t = e.node("Transpose", [t], {"perm": [0, 1, 3, 5, 2, 4]})
    e.final("Reshape", [t, e.ints([n, c * b * b, h // b, w // b], "shape")])
