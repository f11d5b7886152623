"""Slice (attributes before opset 10, inputs from 10), Gather (constant indices), Split
(attribute, input, or num_outputs by opset), Pad (attributes before opset 11, inputs from 11),
Clip (attributes before opset 11, inputs from 11)."""

import math

import numpy as np

from nnrosetta_frontend_onnx.importers._base import (
    NodeIssue,
    Out,
    Unsupported,
    bind_inputs,
    canon_axis,
    floats_scalar,
    importer,
    ints,
    node,
)


@importer("Slice", since=1, ir_ops=["Slice"])
def slice_(onode, ctx) -> Out:
    if onode.opset < 10:
        starts = [int(v) for v in onode.attr("starts", [])]
        ends = [int(v) for v in onode.attr("ends", [])]
        axes = [int(v) for v in onode.attr("axes", [])]
        steps: list[int] = []
    else:
        starts = ints(ctx.const(onode.input(1), "starts"))
        ends = ints(ctx.const(onode.input(2), "ends"))
        axes = ints(ctx.const(onode.input(3), "axes")) if ctx.has(onode.input(3)) else []
        steps = ints(ctx.const(onode.input(4), "steps")) if ctx.has(onode.input(4)) else []
    if len(starts) != len(ends) or (axes and len(axes) != len(starts)) or \
            (steps and len(steps) != len(starts)):
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: starts {starts}, ends {ends}, axes "
                        f"{axes} and steps {steps} differ in length")
    if 0 in steps:
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: a step is 0")
    x = ctx.shape(onode.input(0))
    if axes and x is not None:
        axes = [canon_axis(a, len(x), onode) for a in axes]
    return Out([node(onode, "Slice", [ctx.ref(onode.input(0))], starts=starts, ends=ends,
                     axes=axes, steps=steps)])


@importer("Gather", since=1, ir_ops=["Gather", "Constant"])
def gather(onode, ctx) -> Out:
    idx = onode.input(1)
    if not ctx.is_const(idx):
        raise Unsupported(f"{onode.label}: indices {idx!r} are computed at run time; the "
                          "frontend takes constant indices", "DYNAMIC_INPUT")
    x = ctx.shape(onode.input(0))
    axis = int(onode.attr("axis", 0))
    if x is not None:
        axis = canon_axis(axis, len(x), onode)
        vals = np.asarray(ctx.const(idx), dtype=np.int64)
        if vals.size and (vals.min() < -x[axis] or vals.max() >= x[axis]):
            raise NodeIssue("BAD_INDEX", f"{onode.label}: indices out of range for dim "
                            f"{x[axis]}")
    return Out([node(onode, "Gather", [ctx.ref(onode.input(0)), ctx.ref(idx, "int64")],
                     axis=axis)])


@importer("Split", since=2, ir_ops=["Split", "Identity"])
def split(onode, ctx) -> Out:
    x = ctx.need_shape(onode, onode.input(0))
    axis = canon_axis(int(onode.attr("axis", 0)), len(x), onode)
    n_out = len(onode.outputs)
    if onode.opset < 13:
        sizes = [int(v) for v in onode.attr("split", [])]
    elif ctx.has(onode.input(1)):
        sizes = ints(ctx.const(onode.input(1), "split"))
    else:
        sizes = []
    if not sizes:
        k = int(onode.attr("num_outputs", n_out))
        if onode.opset >= 18 and onode.attr("num_outputs") is not None:
            part = math.ceil(x[axis] / k)
            sizes = [min(part, x[axis] - i * part) for i in range(k)]
        else:
            if x[axis] % n_out:
                raise NodeIssue("BAD_SHAPE", f"{onode.label}: dim {x[axis]} does not split "
                                f"into {n_out} equal parts")
            sizes = [x[axis] // n_out] * n_out
    if sum(sizes) != x[axis] or len(sizes) != n_out:
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: split {sizes} does not cut dim "
                        f"{x[axis]} into {n_out} outputs")
    sp = node(onode, "Split", [ctx.ref(onode.input(0))], axis=axis, split=sizes)
    nodes = [sp]
    outs: list = [sp.name]
    # one node per further output, so each IR value keeps its own ONNX tensor name
    for i in range(1, n_out):
        if not onode.outputs[i]:
            outs.append(None)
            continue
        ident = node(onode, "Identity", [f"{sp.name}:{i}"], f"out{i}", source=onode.outputs[i])
        nodes.append(ident)
        outs.append(ident.name)
    return Out(nodes, outputs=outs)


@importer("Pad", since=2, ir_ops=["Pad"])
def pad(onode, ctx) -> Out:
    x = ctx.need_shape(onode, onode.input(0))
    rank = len(x)
    mode = str(onode.attr("mode", "constant"))
    if onode.opset < 11:
        pads = [int(v) for v in onode.attr("pads", [])]
        value = float(onode.attr("value", 0.0))
    else:
        pads = ints(ctx.const(onode.input(1), "pads"))
        value = 0.0
        if ctx.has(onode.input(2)):
            v = np.asarray(ctx.const(onode.input(2), "constant_value"))
            value = floats_scalar(v, onode, "constant_value") if v.size else 0.0
        if ctx.has(onode.input(3)):
            axes = [canon_axis(a, rank, onode) for a in ints(ctx.const(onode.input(3), "axes"))]
            if len(pads) != 2 * len(axes):
                raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: {len(pads)} pads for "
                                f"{len(axes)} axes")
            full = [0] * (2 * rank)
            for i, a in enumerate(axes):
                full[a] = pads[i]
                full[rank + a] = pads[len(axes) + i]
            pads = full
    if len(pads) != 2 * rank:
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: {len(pads)} pads for rank {rank}")
    if mode not in ("constant", "reflect", "edge", "wrap"):
        raise Unsupported(f"{onode.label}: mode {mode!r}")
    return Out([node(onode, "Pad", [ctx.ref(onode.input(0))], pads=pads, mode=mode,
                     value=value)])


@importer("Clip", since=6, ir_ops=["Clip"])
def clip(onode, ctx) -> Out:
    if onode.opset < 11:
        lo = float(onode.attr("min", -np.inf))
        hi = float(onode.attr("max", np.inf))
    else:
        lo, hi = -np.inf, np.inf
        bound = {}
        for i, role in ((1, "min"), (2, "max")):
            name = onode.input(i)
            if not ctx.has(name):
                continue
            if not ctx.is_const(name):  # computed at run time: bound to an input
                bound[role] = ctx.ref(name)
            elif role == "min":
                lo = floats_scalar(ctx.const(name, "min"), onode, "min")
            else:
                hi = floats_scalar(ctx.const(name, "max"), onode, "max")
        if bound:
            attrs = {k: float(v) for k, v in (("min", lo), ("max", hi)) if k not in bound}
            return Out([bind_inputs(node(onode, "Clip", [ctx.ref(onode.input(0))], **attrs),
                                    bound)])
    return Out([node(onode, "Clip", [ctx.ref(onode.input(0))], min=float(lo), max=float(hi))])
