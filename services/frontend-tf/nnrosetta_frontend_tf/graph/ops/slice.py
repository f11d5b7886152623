"""StridedSlice and Slice -> IR Slice (+ Squeeze / Unsqueeze for shrink and new axes)."""

from nnrosetta_frontend_tf.graph.layout import Act, drop_dims, ir_axis
from nnrosetta_frontend_tf.graph.ops._base import NodeIssue, Unsupported, ints, tf_op

INT_MIN = -(2**63)


def slice_spec(node, shape, begin, end, strides) -> list[tuple]:
    """Per index entry: ("slice", dim, start, stop, step), ("index", dim, i) or ("new",)
    with TF's masks applied (Python clamping, as TF's)."""
    bm, em = int(node.attr("begin_mask", 0)), int(node.attr("end_mask", 0))
    ellm, nam = int(node.attr("ellipsis_mask", 0)), int(node.attr("new_axis_mask", 0))
    sam = int(node.attr("shrink_axis_mask", 0))
    n, rank = len(begin), len(shape)
    if bin(ellm).count("1") > 1:
        raise Unsupported(f"{node.label}: more than one ellipsis")
    used = sum(1 for i in range(n) if not (ellm >> i) & 1 and not (nam >> i) & 1)
    out: list[tuple] = []
    dim = 0
    for i in range(n):
        if (ellm >> i) & 1:
            for _ in range(rank - used):
                out.append(("slice", dim, 0, shape[dim], 1))
                dim += 1
        elif (nam >> i) & 1:
            out.append(("new",))
        elif dim >= rank:
            raise NodeIssue("BAD_ATTRIBUTE", f"{node.label}: {n} slice entries for rank {rank}")
        elif (sam >> i) & 1:
            idx = begin[i] + (shape[dim] if begin[i] < 0 else 0)
            if not 0 <= idx < shape[dim]:
                raise NodeIssue("BAD_ATTRIBUTE", f"{node.label}: index {begin[i]} out of "
                                f"range for dim {dim} of size {shape[dim]}")
            out.append(("index", dim, idx))
            dim += 1
        else:
            if strides[i] == 0:
                raise NodeIssue("BAD_ATTRIBUTE", f"{node.label}: stride 0")
            b = None if (bm >> i) & 1 else begin[i]
            e = None if (em >> i) & 1 else end[i]
            out.append(("slice", dim, *slice(b, e, strides[i]).indices(shape[dim])))
            dim += 1
    while dim < rank:
        out.append(("slice", dim, 0, shape[dim], 1))
        dim += 1
    return out


def emit_slices(node, ctx, x: Act, spec: list[tuple]):
    """The IR nodes of a slice spec over ``x``; the last one carries the source name."""
    if any(e[0] == "new" for e in spec):
        x = ctx.source_layout(x)
    starts, ends, axes, steps = [], [], [], []
    for e in spec:
        if e[0] == "slice":
            _, d, s, t, st = e
            if (s, t, st) == (0, x.src_shape[d], 1):
                continue
            if st < 0 and t < 0:
                t = INT_MIN
            starts.append(s)
            ends.append(t)
            steps.append(st)
            axes.append(ir_axis(d, x.perm, x.rank))
        elif e[0] == "index":
            _, d, i = e
            starts.append(i)
            ends.append(i + 1)
            steps.append(1)
            axes.append(ir_axis(d, x.perm, x.rank))
    shrink = [e[1] for e in spec if e[0] == "index"]
    new_pos = [i for i, e in enumerate(e for e in spec if e[0] != "index") if e[0] == "new"]
    steps_left = (1 if axes else 0) + (1 if shrink else 0) + (1 if new_pos else 0)
    if not steps_left:
        return [x]
    if axes:
        steps_left -= 1
        x = ctx.emit("Slice", [x.ref], {"starts": starts, "ends": ends, "axes": axes,
                                        "steps": steps}, perm=x.perm, source=not steps_left,
                     suffix="slice" if steps_left else "")
    if shrink:
        steps_left -= 1
        ir_axes = sorted(ir_axis(d, x.perm, x.rank) for d in shrink)
        x = ctx.emit("Squeeze", [x.ref], {"axes": ir_axes},
                     perm=drop_dims(x.perm, shrink, x.rank), source=not steps_left,
                     suffix="squeeze" if steps_left else "")
    if new_pos:
        x = ctx.emit("Unsqueeze", [x.ref], {"axes": new_pos}, source=True)
    return [x]


@tf_op("StridedSlice", ir_ops=["Slice", "Squeeze", "Unsqueeze"])
def strided_slice(node, ctx):
    """StridedSlice(input, begin, end, strides) with begin/end/ellipsis/new-axis/shrink
    masks."""
    x = ctx.act(node.input(0))
    begin = ints(ctx.const(node.input(1), "begin"))
    end = ints(ctx.const(node.input(2), "end"))
    strides = ints(ctx.const(node.input(3), "strides"))
    return emit_slices(node, ctx, x, slice_spec(node, x.src_shape, begin, end, strides))


@tf_op("Slice", ir_ops=["Slice"])
def slice_(node, ctx):
    """Slice(input, begin, size) (size -1: to the end)."""
    x = ctx.act(node.input(0))
    begin = ints(ctx.const(node.input(1), "begin"))
    size = ints(ctx.const(node.input(2), "size"))
    spec = [("slice", d, b, x.src_shape[d] if s == -1 else b + s, 1)
            for d, (b, s) in enumerate(zip(begin, size, strict=True))]
    return emit_slices(node, ctx, x, spec)
