"""Geometry shared by convolutions and pooling: layouts, strides, TF padding."""

from __future__ import annotations

import math

import numpy as np

from nnrosetta_frontend_tf.graph.layout import Act, Perm, channels_first, const_in
from nnrosetta_frontend_tf.graph.ops._base import NodeIssue, TFNode, Unsupported


def channels_last(node: TFNode) -> bool:
    fmt = node.data_format()
    if fmt not in ("NHWC", "NCHW", "NDHWC", "NCDHW", "NWC", "NCW"):
        raise Unsupported(f"{node.label}: data_format {fmt!r}")
    return fmt.endswith("C")


def want_layout(node: TFNode, rank: int) -> Perm:
    """The layout a spatial op needs its input in: channels first in the IR."""
    return channels_first(rank) if channels_last(node) else None


def spatial_attr(node: TFNode, key: str, rank: int, default: int = 1) -> list[int]:
    """A per-dim attribute (strides, dilations, ksize; in data_format order) for the spatial
    dims only; the batch and channel entries must be 1."""
    v = node.attr(key)
    if not v:
        return [default] * (rank - 2)
    v = [int(i) for i in v]
    if len(v) != rank:
        raise NodeIssue("BAD_ATTRIBUTE", f"{node.label}: {key} {v} has {len(v)} values for a "
                        f"rank-{rank} input")
    if channels_last(node):
        outer, sp = [v[0], v[-1]], v[1:-1]
    else:
        outer, sp = v[:2], v[2:]
    if any(o != 1 for o in outer):
        raise Unsupported(f"{node.label}: {key} {v} acts on the batch or channel dim")
    return sp


def tf_pads(node: TFNode, spatial: list[int], k: list[int], s: list[int], d: list[int],
            rank: int) -> list[int]:
    """IR pads (all begins, then all ends) of TF padding VALID / SAME / EXPLICIT."""
    padding = node.attr("padding", "VALID")
    n = len(k)
    if padding == "VALID":
        return [0] * (2 * n)
    if padding == "SAME":
        begin, end = [], []
        for a in range(n):
            out = math.ceil(spatial[a] / s[a])
            total = max((out - 1) * s[a] + (k[a] - 1) * d[a] + 1 - spatial[a], 0)
            begin.append(total // 2)
            end.append(total - total // 2)
        return begin + end
    if padding == "EXPLICIT":
        p = [int(i) for i in node.attr("explicit_paddings", [])]
        if len(p) != 2 * rank:
            raise NodeIssue("BAD_ATTRIBUTE", f"{node.label}: explicit_paddings {p} needs "
                            f"{2 * rank} values")
        pairs = [p[2 * i:2 * i + 2] for i in range(rank)]
        sp = pairs[1:-1] if channels_last(node) else pairs[2:]
        return [b for b, _ in sp] + [e for _, e in sp]
    raise Unsupported(f"{node.label}: padding {padding!r}")


def bias_follower(ctx, tensor: str, out: Act, axis: int):
    """The BiasAdd / Add / AddV2 that alone reads ``tensor`` (the output of a Conv or MatMul
    in source layout ``out``) and adds a constant along source axis ``axis`` only:
    (node, bias [C]) or None."""
    nxt = ctx.sole_consumer(tensor)
    if nxt is None or nxt.op not in ("BiasAdd", "BiasAddV1", "Add", "AddV2"):
        return None
    mine = 0 if nxt.input(0) == tensor else 1
    other = nxt.input(1 - mine)
    if not ctx.is_const(other) or (nxt.op.startswith("BiasAdd") and mine != 0):
        return None
    b = np.asarray(ctx.const(other))
    c = out.src_shape[axis]
    if b.dtype.kind != "f":
        return None
    if nxt.op.startswith("BiasAdd"):
        bax = 1 if nxt.data_format().startswith("NC") and out.rank > 2 else out.rank - 1
        if bax != axis or b.shape != (c,):
            return None
        return nxt, b.astype(np.float32)
    if b.ndim > out.rank:
        return None
    full = const_in(b, out.rank, None)
    if any(dim != 1 for i, dim in enumerate(full.shape) if i != axis) or \
            full.shape[axis] not in (1, c):
        return None
    return nxt, np.ascontiguousarray(np.broadcast_to(full.reshape(-1), (c,)), np.float32)
