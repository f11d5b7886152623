"""LRN, InstanceNormalization, LayerNormalization, GroupNormalization."""

import numpy as np

from nnrosetta_frontend_onnx.importers._base import (
    NodeIssue,
    Out,
    Unsupported,
    canon_axis,
    importer,
    node,
    only_first_output,
)


@importer("LRN", since=1, ir_ops=["LRN"])
def lrn(onode, ctx) -> Out:
    size = int(onode.attr("size"))
    if size % 2 == 0:
        raise Unsupported(f"{onode.label}: even size {size} (ONNX centres an even window one "
                          "channel later than the IR LRN)")
    return Out([node(onode, "LRN", [ctx.ref(onode.input(0))], size=size,
                     alpha=float(onode.attr("alpha", 1e-4)),
                     beta=float(onode.attr("beta", 0.75)), bias=float(onode.attr("bias", 1.0)),
                     region="across")])


def _per_channel(ctx, onode, name, what, c):
    t = ctx.tensor(name, what)
    if int(np.prod(t.shape)) != c:
        raise NodeIssue("BAD_SHAPE", f"{onode.label}: {what} has shape {list(t.shape)}, "
                        f"expected [{c}]")
    return t.map(lambda a: np.asarray(a, dtype=np.float32).reshape(-1), (c,), "float32")


@importer("InstanceNormalization", since=1, ir_ops=["InstanceNormalization"])
def instance_norm(onode, ctx) -> Out:
    x = ctx.need_shape(onode, onode.input(0))
    c = x[1]
    n = node(onode, "InstanceNormalization", [ctx.ref(onode.input(0))],
             epsilon=float(onode.attr("epsilon", 1e-5)))
    return Out([n], {f"{n.name}.scale": _per_channel(ctx, onode, onode.input(1), "scale", c),
                     f"{n.name}.bias": _per_channel(ctx, onode, onode.input(2), "bias", c)})


@importer("LayerNormalization", since=17, ir_ops=["LayerNormalization"])
def layer_norm(onode, ctx) -> Out:
    only_first_output(onode, ctx)
    x = ctx.need_shape(onode, onode.input(0))
    axis = canon_axis(int(onode.attr("axis", -1)), len(x), onode)
    norm_shape = tuple(x[axis:])

    def full(name, what):
        t = ctx.tensor(name, what)
        try:
            np.broadcast_shapes(tuple(t.shape), norm_shape)
        except ValueError as e:
            raise NodeIssue("BAD_SHAPE", f"{onode.label}: {what} of shape {list(t.shape)} does "
                            f"not broadcast to {list(norm_shape)}") from e
        return t.map(lambda a: np.broadcast_to(np.asarray(a, dtype=np.float32),
                                               norm_shape).copy(), norm_shape, "float32")

    n = node(onode, "LayerNormalization", [ctx.ref(onode.input(0))], axis=axis,
             epsilon=float(onode.attr("epsilon", 1e-5)))
    w = {f"{n.name}.scale": full(onode.input(1), "scale")}
    if ctx.has(onode.input(2)):
        w[f"{n.name}.bias"] = full(onode.input(2), "bias")
    return Out([n], w)


@importer("GroupNormalization", since=18, ir_ops=["GroupNormalization"])
def group_norm(onode, ctx) -> Out:
    x = ctx.need_shape(onode, onode.input(0))
    c = x[1]
    g = int(onode.attr("num_groups"))
    if g < 1 or c % g:
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: {c} channels do not split into "
                        f"{g} groups")
    n = node(onode, "GroupNormalization", [ctx.ref(onode.input(0))], num_groups=g,
             epsilon=float(onode.attr("epsilon", 1e-5)))
    w = {}
    for i, role in ((1, "scale"), (2, "bias")):
        t = ctx.tensor(onode.input(i), role)
        if onode.opset < 21 and int(np.prod(t.shape)) == g and g != c:
            # opset 18: one value per group -> repeat over the group's channels
            t = t.map(lambda a, k=c // g: np.repeat(np.asarray(a, np.float32).reshape(-1), k),
                      (c,), "float32")
            w[f"{n.name}.{role}"] = t
        else:
            w[f"{n.name}.{role}"] = _per_channel(ctx, onode, onode.input(i), role, c)
    return Out([n], w)
