"""Shape and layout: Concat, Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Expand, Tile,
DepthToSpace, SpaceToDepth, Identity, Dropout."""

import math

import numpy as np

from nnrosetta_frontend_onnx.importers._base import (
    NodeIssue,
    Out,
    Unsupported,
    canon_axis,
    importer,
    ints,
    node,
    only_first_output,
)


@importer("Concat", since=4, ir_ops=["Concat"])
def concat(onode, ctx) -> Out:
    return Out([node(onode, "Concat", [ctx.ref(x) for x in onode.inputs if x],
                     axis=int(onode.attr("axis", 1)))])


@importer("Flatten", since=1, ir_ops=["Flatten", "Reshape"])
def flatten(onode, ctx) -> Out:
    x = ctx.need_shape(onode, onode.input(0))
    rank = len(x)
    axis = int(onode.attr("axis", 1))
    axis = axis + rank if axis < 0 else axis
    if not 0 <= axis <= rank:
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: axis {axis} out of range for rank "
                        f"{rank}")
    if axis == 1 and rank >= 2:
        return Out([node(onode, "Flatten", [ctx.ref(onode.input(0))], axis=1, end_axis=-1)])
    shape = [math.prod(x[:axis]), math.prod(x[axis:])]
    return Out([node(onode, "Reshape", [ctx.ref(onode.input(0))], shape=shape)])


@importer("Reshape", since=5, ir_ops=["Reshape"])
def reshape(onode, ctx) -> Out:
    shape = ints(ctx.const(onode.input(1), "shape"))
    if int(onode.attr("allowzero", 0)) and 0 in shape:
        raise Unsupported(f"{onode.label}: allowzero=1 with a 0 in shape {shape} (an empty "
                          "tensor)")
    return Out([node(onode, "Reshape", [ctx.ref(onode.input(0))], shape=shape)])


@importer("Transpose", since=1, ir_ops=["Transpose"])
def transpose(onode, ctx) -> Out:
    perm = onode.attr("perm")
    if perm is None:
        x = ctx.shape(onode.input(0))
        perm = list(range(len(x)))[::-1] if x is not None else []
    return Out([node(onode, "Transpose", [ctx.ref(onode.input(0))],
                     perm=[int(p) for p in perm])])


def _axes(onode, ctx, opset_input: int, required: bool) -> list[int] | None:
    if onode.opset >= opset_input:
        name = onode.input(1)
        if not ctx.has(name):
            return None
        return ints(ctx.const(name, "axes"))
    a = onode.attr("axes")
    return None if a is None else [int(v) for v in a]


@importer("Squeeze", since=1, ir_ops=["Squeeze"])
def squeeze(onode, ctx) -> Out:
    axes = _axes(onode, ctx, 13, False)
    x = ctx.shape(onode.input(0))
    if axes and x is not None:
        axes = sorted(canon_axis(a, len(x), onode) for a in axes)
    return Out([node(onode, "Squeeze", [ctx.ref(onode.input(0))], axes=axes or [])])


@importer("Unsqueeze", since=1, ir_ops=["Unsqueeze"])
def unsqueeze(onode, ctx) -> Out:
    axes = _axes(onode, ctx, 13, True)
    if not axes:
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: axes are required")
    x = ctx.shape(onode.input(0))
    if x is not None:
        axes = sorted(canon_axis(a, len(x) + len(axes), onode) for a in axes)
    return Out([node(onode, "Unsqueeze", [ctx.ref(onode.input(0))], axes=axes)])


@importer("Expand", since=8, ir_ops=["Expand"])
def expand(onode, ctx) -> Out:
    shape = ints(ctx.const(onode.input(1), "shape"))
    return Out([node(onode, "Expand", [ctx.ref(onode.input(0))], shape=shape)])


@importer("Tile", since=6, ir_ops=["Tile"])
def tile(onode, ctx) -> Out:
    reps = ints(ctx.const(onode.input(1), "repeats"))
    return Out([node(onode, "Tile", [ctx.ref(onode.input(0))], repeats=reps)])


@importer("DepthToSpace", since=1, ir_ops=["DepthToSpace"])
def depth_to_space(onode, ctx) -> Out:
    return Out([node(onode, "DepthToSpace", [ctx.ref(onode.input(0))],
                     blocksize=int(onode.attr("blocksize")),
                     mode=str(onode.attr("mode", "DCR")))])


@importer("SpaceToDepth", since=1, ir_ops=["SpaceToDepth"])
def space_to_depth(onode, ctx) -> Out:
    mode = str(onode.attr("mode", "DCR"))  # an attribute since opset 28 (DCR before)
    if mode not in ("DCR", "CRD"):
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: mode {mode!r} is not DCR or CRD")
    return Out([node(onode, "SpaceToDepth", [ctx.ref(onode.input(0))],
                     blocksize=int(onode.attr("blocksize")), mode=mode)])


@importer("Identity", since=1, ir_ops=["Identity"])
def identity(onode, ctx) -> Out:
    return Out([node(onode, "Identity", [ctx.ref(onode.input(0))])])


@importer("Dropout", since=1, ir_ops=["Dropout"])
def dropout(onode, ctx) -> Out:
    """Identity at inference. From opset 12 ratio and training_mode are inputs: training_mode
    must be absent or a constant false (a constant true is random, unless ratio is a
    constant 0); a ratio computed at run time is then accepted (it changes nothing at
    inference) and the IR keeps the default 0.5 for a training layer."""
    only_first_output(onode, ctx)
    ratio = float(onode.attr("ratio", 0.5))
    if onode.opset >= 12:
        r_name, t_name = onode.input(1), onode.input(2)
        const_ratio = ctx.is_const(r_name)
        if const_ratio:
            ratio = float(np.asarray(ctx.const(r_name, "ratio")).reshape(-1)[0])
        elif ctx.has(r_name):
            ratio = 0.5
        if ctx.has(t_name):
            if not ctx.is_const(t_name):
                raise Unsupported(f"{onode.label}: training_mode {t_name!r} is computed at "
                                  "run time (dropout is random when it is true); only an "
                                  "absent or constant training_mode converts",
                                  "DYNAMIC_INPUT")
            training = bool(np.asarray(ctx.const(t_name, "training_mode")).reshape(-1)[0])
            if training and not (const_ratio and ratio == 0.0):
                raise Unsupported(f"{onode.label}: training_mode=true (random at inference)")
    return Out([node(onode, "Dropout", [ctx.ref(onode.input(0))], ratio=ratio)])
