"""LRN, InstanceNormalization, LayerNormalization, GroupNormalization."""

import numpy as np

from nnrosetta.ir.graph import make_ref
from nnrosetta_frontend_onnx.importers._base import (
    NodeIssue,
    Out,
    Unsupported,
    bind_inputs,
    canon_axis,
    importer,
    node,
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
    weights, bound = {}, {}
    for i, role in ((1, "scale"), (2, "bias")):
        if ctx.is_const(onode.input(i)):
            weights[f"{n.name}.{role}"] = _per_channel(ctx, onode, onode.input(i), role, c)
        else:
            bound[role] = _bound_per_channel(ctx, onode, onode.input(i), role, c)
    return Out([bind_inputs(n, bound)], weights)


def _bound_per_channel(ctx, onode, name, what, c) -> str:
    """A per-channel parameter computed at run time: its IR ref (it must be [C])."""
    s = ctx.shape(name)
    if s is not None and tuple(s) != (c,):
        raise Unsupported(f"{onode.label}: {what} computed at run time has shape {list(s)}, "
                          f"expected [{c}]")
    return ctx.ref(name)


@importer("LayerNormalization", since=17, ir_ops=["LayerNormalization"])
def layer_norm(onode, ctx) -> Out:
    x = ctx.need_shape(onode, onode.input(0))
    if int(onode.attr("stash_type", 1)) != 1:
        raise Unsupported(f"{onode.label}: stash_type {onode.attr('stash_type')} (the IR "
                          "computes the statistics in float32)")
    # Mean and InvStdDev are computed when read (num_outputs = the last one read, + 1)
    count = 1 + max([i for i, o in enumerate(onode.outputs) if i and o and ctx.used(o)],
                    default=0)
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

    attrs = {"num_outputs": count} if count > 1 else {}
    n = node(onode, "LayerNormalization", [ctx.ref(onode.input(0))], axis=axis,
             epsilon=float(onode.attr("epsilon", 1e-5)), **attrs)
    w, bound = {}, {}
    for i, role in ((1, "scale"), (2, "bias")):
        name = onode.input(i)
        if not ctx.has(name):
            continue
        if ctx.is_const(name):
            w[f"{n.name}.{role}"] = full(name, role)
            continue
        s = ctx.shape(name)   # computed at run time: bound as is (the IR broadcasts it)
        if s is not None:
            try:
                ok = np.broadcast_shapes(tuple(s), norm_shape) == norm_shape
            except ValueError:
                ok = False
            if not ok:
                raise NodeIssue("BAD_SHAPE", f"{onode.label}: {role} of shape {list(s)} does "
                                f"not broadcast to {list(norm_shape)}")
        bound[role] = ctx.ref(name)
    outs = [make_ref(n.name, i) for i in range(count)] + [None] * (len(onode.outputs) - count)
    return Out([bind_inputs(n, bound)], w, outs)


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
    w, bound, helpers = {}, {}, []
    for i, role in ((1, "scale"), (2, "bias")):
        if not ctx.is_const(onode.input(i)):
            bound[role] = _bound_group_param(ctx, onode, onode.input(i), role, c, g, helpers)
            continue
        t = ctx.tensor(onode.input(i), role)
        if onode.opset < 21 and int(np.prod(t.shape)) == g and g != c:
            # opset 18: one value per group -> repeat over the group's channels
            t = t.map(lambda a, k=c // g: np.repeat(np.asarray(a, np.float32).reshape(-1), k),
                      (c,), "float32")
            w[f"{n.name}.{role}"] = t
        else:
            w[f"{n.name}.{role}"] = _per_channel(ctx, onode, onode.input(i), role, c)
    return Out([*helpers, bind_inputs(n, bound)], w)


def _bound_group_param(ctx, onode, name, role, c, g, helpers) -> str:
    """A GroupNormalization scale / bias computed at run time: [C] bound as is; opset 18's
    per-group [G] repeated over each group's channels (Reshape, Expand, Reshape)."""
    s = tuple(ctx.need_shape(onode, name))
    ref = ctx.ref(name)
    if s == (c,):
        return ref
    if onode.opset < 21 and s == (g,):
        k = c // g
        a = node(onode, "Reshape", [ref], suffix=f"{role}_groups", shape=[g, 1])
        b = node(onode, "Expand", [a.name], suffix=f"{role}_expand", shape=[g, k])
        r = node(onode, "Reshape", [b.name], suffix=f"{role}_channels", shape=[c])
        helpers.extend([a, b, r])
        return r.name
    raise NodeIssue("BAD_SHAPE", f"{onode.label}: {role} has shape {list(s)}, expected [{c}]")
