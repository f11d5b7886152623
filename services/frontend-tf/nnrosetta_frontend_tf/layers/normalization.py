"""BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization ->
IR BatchNorm (or Scale), LayerNormalization, GroupNormalization, LpNormalization."""

from __future__ import annotations

import numpy as np

from nnrosetta_frontend_tf import compat
from nnrosetta_frontend_tf.layers._base import (
    LayerCall,
    LayerIssue,
    Out,
    OutVal,
    Tensor,
    Unsupported,
    layer,
    src_axis,
)


def _axes(call: LayerCall, rank: int, default=-1) -> list[int]:
    a = call.cfg("axis", default)
    a = list(a) if isinstance(a, (list, tuple)) else [a]
    return sorted({src_axis(call, int(v), rank) for v in a})


def _vec(call: LayerCall, name: str, size: int, fill: float | None = None) -> Tensor:
    v = compat.weight(call.layer, name)
    if v is None:
        if fill is None:
            raise LayerIssue("MISSING_WEIGHT", f"{call.label} has no {name} weight")
        return Tensor.of(np.full((size,), fill, np.float32))
    return Tensor((size,), lambda: compat.to_numpy(v).reshape(-1))


@layer("BatchNormalization", ir_ops=["BatchNorm", "Scale"])
def batch_norm(call, ctx) -> Out:
    """keras.layers.BatchNormalization(axis, epsilon, center, scale), inference statistics"""
    x = ctx.input(0)
    axes = _axes(call, x.rank)
    if len(axes) != 1:
        raise Unsupported(f"{call.label}: normalization over several axes {axes}")
    a = axes[0]
    size = x.src_shape[a]
    eps = float(call.cfg("epsilon", 1e-3))
    gamma = _vec(call, "gamma", size) if call.cfg("scale", True) else None
    beta = _vec(call, "beta", size) if call.cfg("center", True) else None
    mean, var = _vec(call, "moving_mean", size), _vec(call, "moving_variance", size)
    if x.ir_axis(a) == 1:
        momentum = call.cfg("momentum", 0.99)
        n = ctx.node(call, "BatchNorm", [x.ref], epsilon=eps,
                     momentum=float(1.0 - float(momentum)))
        w = {f"{n.name}.mean": mean, f"{n.name}.var": var}
        if gamma is not None:
            w[f"{n.name}.scale"] = gamma
        if beta is not None:
            w[f"{n.name}.bias"] = beta
        return Out([n], w, [OutVal(n.name, x.perm)])
    # the normalized axis is elsewhere in the IR tensor: the same affine map as a Scale

    def scale_of():
        s = 1.0 / np.sqrt(var.load().astype(np.float64) + eps)
        if gamma is not None:
            s = s * gamma.load()
        return s.astype(np.float32)

    def bias_of():
        b = -mean.load().astype(np.float64) * scale_of()
        if beta is not None:
            b = b + beta.load()
        return b.astype(np.float32)

    n = ctx.node(call, "Scale", [x.ref], axis=x.ir_axis(a))
    return Out([n], {f"{n.name}.scale": Tensor((size,), scale_of),
                     f"{n.name}.bias": Tensor((size,), bias_of)}, [OutVal(n.name, x.perm)])


@layer("LayerNormalization", ir_ops=["LayerNormalization", "Transpose"])
def layer_norm(call, ctx) -> Out:
    """keras.layers.LayerNormalization(axis, epsilon, center, scale)"""
    x = ctx.input(0)
    axes = _axes(call, x.rank)
    if call.cfg("rms_scaling", False):
        raise Unsupported(f"{call.label}: rms_scaling=True")
    k = len(axes)
    perm = x.ir_perm()
    if list(perm[x.rank - k:]) != axes:
        others = [i for i in range(x.rank) if i not in axes]
        x = ctx.as_perm(x, tuple(others + axes) if others + axes != list(range(x.rank))
                        else None)
    shape = tuple(x.src_shape[a] for a in axes)
    size = int(np.prod(shape))
    n = ctx.node(call, "LayerNormalization", [x.ref], axis=x.rank - k,
                 epsilon=float(call.cfg("epsilon", 1e-3)))

    def vec(name, fill):
        t = _vec(call, name, size, fill)
        return Tensor(shape, lambda: t.load().reshape(shape))

    w = {f"{n.name}.scale": vec("gamma", 1.0 if not call.cfg("scale", True) else None)}
    if call.cfg("center", True):
        w[f"{n.name}.bias"] = vec("beta", None)
    return Out([n], w, [OutVal(n.name, x.perm)])


@layer("GroupNormalization", ir_ops=["GroupNormalization"])
def group_norm(call, ctx) -> Out:
    """keras.layers.GroupNormalization(groups, axis, epsilon, center, scale)"""
    x = ctx.input(0)
    axes = _axes(call, x.rank)
    if len(axes) != 1:
        raise Unsupported(f"{call.label}: axis {axes}")
    a = axes[0]
    if x.ir_axis(a) != 1:
        order = [0, a] + [i for i in range(1, x.rank) if i != a]
        x = ctx.as_perm(x, tuple(order) if order != list(range(x.rank)) else None)
    size = x.shape[1]
    n = ctx.node(call, "GroupNormalization", [x.ref], num_groups=int(call.cfg("groups", 32)),
                 epsilon=float(call.cfg("epsilon", 1e-3)))
    w = {f"{n.name}.scale": _vec(call, "gamma", size, 1.0 if not call.cfg("scale", True)
                                 else None),
         f"{n.name}.bias": _vec(call, "beta", size, 0.0 if not call.cfg("center", True)
                                else None)}
    return Out([n], w, [OutVal(n.name, x.perm)])


@layer("UnitNormalization", ir_ops=["LpNormalization"])
def unit_norm(call, ctx) -> Out:
    """keras.layers.UnitNormalization(axis): x / ||x||_2 (along one axis)"""
    x = ctx.input(0)
    axes = _axes(call, x.rank)
    if len(axes) != 1:
        raise Unsupported(f"{call.label}: axis {axes} (one axis only)")
    n = ctx.node(call, "LpNormalization", [x.ref], axis=x.ir_axis(axes[0]), p=2)
    return Out([n], outputs=[OutVal(n.name, x.perm)])
