"""Flatten, Reshape, Permute, ZeroPadding1D/2D/3D, Cropping1D/2D/3D, UpSampling1D/2D/3D,
RepeatVector -> IR Flatten, Reshape, Identity (a Permute only relabels the layout), Pad,
Slice, Resize, Tile."""

from __future__ import annotations

import math

import numpy as np

from nnrosetta_frontend_tf.layers._base import (
    LayerIssue,
    Out,
    OutVal,
    Unsupported,
    channels_first_perm,
    inverse,
    layer,
    tuple_of,
)


def _keeps_order(shape, perm) -> bool:
    """Whether the permutation keeps the row-major order of the data (only size-1 dims
    move)."""
    moved = [p for p in perm if shape[p] != 1]
    return moved == sorted(moved)


@layer("Flatten", ir_ops=["Flatten", "Transpose", "Reshape"])
def flatten(call, ctx) -> Out:
    """keras.layers.Flatten(data_format): a Flatten read only by Dense layers flattens the
    channels-first tensor as held and the Dense weight rows are permuted instead"""
    x = ctx.input(0)
    if x.rank <= 2:
        n = ctx.node(call, "Identity" if x.rank == 2 else "Reshape", [x.ref],
                     **({} if x.rank == 2 else {"shape": [x.shape[0], 1]}))
        return Out([n], outputs=[OutVal(n.name, None)])
    # Keras flattens channels_first data in channels-last order
    eff = (0, *range(2, x.rank), 1) if call.cfg("data_format") == "channels_first" \
        else tuple(range(x.rank))
    # IR = eff_src.transpose(c)
    inv_eff = inverse(eff)
    c = tuple(inv_eff[p] for p in x.ir_perm())
    eff_shape = tuple(x.src_shape[a] for a in eff)
    if _keeps_order(eff_shape, c):
        n = ctx.node(call, "Flatten", [x.ref], axis=1)
        return Out([n], outputs=[OutVal(n.name, None)])
    readers, is_output = ctx.readers(call)
    if readers and not is_output and all(k == "Dense" for k in readers):
        feats = np.arange(math.prod(eff_shape[1:]), dtype=np.int64).reshape(eff_shape[1:])
        feats = feats.transpose([p - 1 for p in c[1:]]).reshape(-1)
        n = ctx.node(call, "Flatten", [x.ref], axis=1)
        return Out([n], outputs=[OutVal(n.name, None, feats)])
    x = ctx.as_perm(x, None if eff == tuple(range(x.rank)) else inverse(eff))
    n = ctx.node(call, "Flatten", [x.ref], axis=1)
    return Out([n], outputs=[OutVal(n.name, None)])


def _target(call, x) -> list[int]:
    t = [int(d) for d in call.cfg("target_shape")]
    total = math.prod(x.shape[1:])
    if t.count(-1) > 1:
        raise LayerIssue("BAD_CONFIG", f"{call.label}: target_shape {t} has several -1")
    if -1 in t:
        known = math.prod(d for d in t if d != -1)
        if known == 0 or total % known:
            raise LayerIssue("BAD_SHAPE", f"{call.label}: cannot reshape {x.src_shape} to {t}")
        t[t.index(-1)] = total // known
    if math.prod(t) != total:
        raise LayerIssue("BAD_SHAPE", f"{call.label}: cannot reshape {list(x.src_shape)} to "
                         f"(batch, {', '.join(map(str, t))})")
    return [x.shape[0], *t]


@layer("Reshape", ir_ops=["Reshape", "Transpose"])
def reshape(call, ctx) -> Out:
    """keras.layers.Reshape(target_shape)"""
    x = ctx.input(0)
    if x.perm is not None and not _keeps_order(x.src_shape, x.ir_perm()):
        x = ctx.source_layout(x)
    target = _target(call, x)
    rank = len(target)
    perm = None
    cf = channels_first_perm(rank)
    if ctx.prefers_channels_first(rank) and _keeps_order(target, cf):
        # e.g. (N, C) -> (N, 1, 1, C): held channels-first at no cost
        perm = cf
        target = [target[p] for p in cf]
    n = ctx.node(call, "Reshape", [x.ref], shape=[0, *target[1:]])
    return Out([n], outputs=[OutVal(n.name, perm)])


@layer("Permute", ir_ops=["Identity"])
def permute(call, ctx) -> Out:
    """keras.layers.Permute(dims): no data moves; the layout bookkeeping changes"""
    x = ctx.input(0)
    dims = [int(d) for d in call.cfg("dims")]
    q = (0, *dims)
    if sorted(q) != list(range(x.rank)):
        raise LayerIssue("BAD_CONFIG", f"{call.label}: dims {dims} for rank {x.rank}")
    inv_q = inverse(q)
    p = tuple(inv_q[a] for a in x.ir_perm())
    n = ctx.node(call, "Identity", [x.ref])
    return Out([n], outputs=[OutVal(n.name, p)])


def _pairs(call, key: str, n: int) -> list[tuple[int, int]]:
    v = call.cfg(key, 1)
    if isinstance(v, (int, np.integer)):
        return [(int(v), int(v))] * n
    v = list(v)
    if n == 1 and len(v) == 2 and all(isinstance(t, (int, np.integer)) for t in v):
        return [(int(v[0]), int(v[1]))]          # 1-D: (begin, end)
    if len(v) != n:
        raise LayerIssue("BAD_CONFIG", f"{call.label}: {key} {v} for {n} axes")
    out = []
    for p in v:
        if isinstance(p, (int, np.integer)):
            out.append((int(p), int(p)))
        else:
            a, b = (int(t) for t in p)
            out.append((a, b))
    return out


def _spatial(call, ctx, n: int):
    x = ctx.channels_first(0, call.cfg("data_format") or "channels_last")
    if x.rank != n + 2:
        raise LayerIssue("BAD_SHAPE", f"{call.label}: input of rank {x.rank}, expected {n + 2}")
    return x


@layer("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D", ir_ops=["Pad"])
def zero_padding(call, ctx) -> Out:
    """keras.layers.ZeroPadding1D/2D/3D(padding)"""
    n = int(call.key[-2])
    x = _spatial(call, ctx, n)
    p = _pairs(call, "padding", n)
    node = ctx.node(call, "Pad", [x.ref], pads=[0, 0, *(a for a, _ in p), 0, 0,
                                                *(b for _, b in p)], mode="constant",
                    value=0.0)
    return Out([node], outputs=[OutVal(node.name, x.perm)])


@layer("Cropping1D", "Cropping2D", "Cropping3D", ir_ops=["Slice"])
def cropping(call, ctx) -> Out:
    """keras.layers.Cropping1D/2D/3D(cropping)"""
    n = int(call.key[-2])
    x = _spatial(call, ctx, n)
    p = _pairs(call, "cropping", n)
    sizes = x.shape[2:]
    if any(a + b >= s for (a, b), s in zip(p, sizes, strict=True)):
        raise LayerIssue("BAD_SHAPE", f"{call.label}: cropping {p} leaves nothing of "
                         f"{list(sizes)}")
    node = ctx.node(call, "Slice", [x.ref], starts=[a for a, _ in p],
                    ends=[s - b for (_, b), s in zip(p, sizes, strict=True)],
                    axes=list(range(2, n + 2)))
    return Out([node], outputs=[OutVal(node.name, x.perm)])


@layer("UpSampling1D", "UpSampling2D", "UpSampling3D", ir_ops=["Resize"])
def upsampling(call, ctx) -> Out:
    """keras.layers.UpSampling1D/2D/3D(size, interpolation 'nearest' or 'bilinear')"""
    n = int(call.key[-2])
    x = _spatial(call, ctx, n)
    size = tuple_of(call.cfg("size", 2), n, "size", call)
    interp = str(call.cfg("interpolation", "nearest")).lower()
    sizes = [d * f for d, f in zip(x.shape[2:], size, strict=True)]
    if interp == "nearest":
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric",
                 "nearest_mode": "floor"}
    elif interp == "bilinear" and n == 2:
        attrs = {"mode": "linear", "coordinate_transformation_mode": "half_pixel"}
    else:
        raise Unsupported(f"{call.label}: interpolation {interp!r} (nearest, and bilinear "
                          "in 2-D, are supported)")
    node = ctx.node(call, "Resize", [x.ref], sizes=sizes, axes=list(range(2, n + 2)), **attrs)
    return Out([node], outputs=[OutVal(node.name, x.perm)])


@layer("RepeatVector", ir_ops=["Unsqueeze", "Tile"])
def repeat_vector(call, ctx) -> Out:
    """keras.layers.RepeatVector(n): (N, F) -> (N, n, F)"""
    x = ctx.source_layout(0)
    if x.rank != 2:
        raise LayerIssue("BAD_SHAPE", f"{call.label}: input of rank {x.rank}, expected 2")
    u = ctx.node(call, "Unsqueeze", [x.ref], "unsqueeze", axes=[1])
    t = ctx.node(call, "Tile", [u.name], repeats=[1, int(call.cfg("n")), 1])
    return Out([u, t], outputs=[OutVal(t.name, None)])
