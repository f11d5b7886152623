"""Layout tracking: a TF tensor is imported either in its own layout or permuted.

``perm`` (the IR node annotation ``_source_perm``) says how: ``ir = source.transpose(perm)``,
so ``ir.shape[i] == source.shape[perm[i]]`` and source axis ``a`` is IR axis
``perm.index(a)``. ``None`` means the same layout. A channels-last activation (NHWC) is kept
channels first in the IR (``perm = (0, 3, 1, 2)``); every importer either works in whatever
layout its inputs are in (elementwise ops, reductions, concat, squeeze ...) or asks for the
layout it needs, and a Transpose is emitted only then.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Perm = tuple[int, ...] | None


@dataclass
class Act:
    """An activation: the IR ref holding a TF tensor, the TF (source) shape, and the layout.

    ``feat`` marks the one non-permutation layout: a 2-D ``[N, F]`` tensor (a Flatten of a
    permuted activation) whose features are in another order, ``ir[:, i] = src[:, feat[i]]``;
    only a MatMul with a constant weight may read it (it permutes the weight's rows)."""

    ref: str
    src_shape: tuple[int, ...]
    perm: Perm = None
    dtype: str = "float32"
    feat: np.ndarray | None = None

    @property
    def rank(self) -> int:
        return len(self.src_shape)

    @property
    def ir_shape(self) -> tuple[int, ...]:
        return ir_shape(self.src_shape, self.perm)


def norm(perm: Sequence[int] | None) -> Perm:
    """``perm`` as a tuple, None when it is the identity."""
    if perm is None:
        return None
    p = tuple(int(i) for i in perm)
    return None if p == tuple(range(len(p))) else p


def full(perm: Perm, rank: int) -> tuple[int, ...]:
    return tuple(range(rank)) if perm is None else perm


def inverse(perm: Sequence[int]) -> tuple[int, ...]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def ir_shape(src: Sequence[int], perm: Perm) -> tuple[int, ...]:
    return tuple(src) if perm is None else tuple(src[p] for p in perm)


def src_shape(ir: Sequence[int], perm: Perm) -> tuple[int, ...]:
    if perm is None:
        return tuple(ir)
    out = [0] * len(ir)
    for i, p in enumerate(perm):
        out[p] = ir[i]
    return tuple(out)


def canon_axis(axis: int, rank: int) -> int:
    if not -rank <= axis < max(rank, 1):
        raise ValueError(f"axis {axis} is out of range for rank {rank}")
    return axis % rank if rank else 0


def ir_axis(axis: int, perm: Perm, rank: int) -> int:
    """The IR axis holding source axis ``axis``."""
    a = canon_axis(axis, rank)
    return a if perm is None else perm.index(a)


def between(p_from: Perm, p_to: Perm, rank: int) -> tuple[int, ...]:
    """The IR Transpose perm taking a tensor in layout ``p_from`` to layout ``p_to``."""
    inv = inverse(full(p_from, rank))
    return tuple(inv[p] for p in full(p_to, rank))


def drop_dims(perm: Perm, removed: Sequence[int], rank: int) -> Perm:
    """The layout left when the source dims ``removed`` go (squeeze, reduction)."""
    if perm is None:
        return None
    gone = set(removed)
    keep = [d for d in range(rank) if d not in gone]
    renum = {d: i for i, d in enumerate(keep)}
    return norm([renum[p] for p in perm if p not in gone])


def insert_dim(perm: Perm, axis: int, rank: int) -> tuple[Perm, int]:
    """(layout, IR position) when a size-1 source dim is inserted at ``axis`` (output rank
    ``rank + 1``): it goes just before the IR position of the source dim that follows it, so
    that e.g. an expanded channels-first NWC tensor is channels-first NHWC."""
    if perm is None:
        return None, axis
    order = [d if d < axis else d + 1 for d in perm]
    pos = order.index(axis + 1) if axis < rank else len(order)
    order.insert(pos, axis)
    return norm(order), pos


def channels_first(rank: int) -> Perm:
    """NHWC -> NCHW (and NWC -> NCW, NDHWC -> NCDHW)."""
    return norm((0, rank - 1, *range(1, rank - 1))) if rank >= 3 else None


def same_memory_order(shape: Sequence[int], perm: Perm) -> bool:
    """True when permuting only moves size-1 dims, so a Reshape does the same."""
    if perm is None:
        return True
    return [p for p in perm if shape[p] != 1] == [d for d in range(len(shape)) if shape[d] != 1]


def const_in(arr: np.ndarray, rank: int, perm: Perm) -> np.ndarray:
    """A constant operand broadcast against a rank-``rank`` tensor in layout ``perm``: leading
    dims added (NumPy broadcasting in the source layout), then permuted like the tensor."""
    a = np.asarray(arr)
    if a.ndim < rank:
        a = a.reshape((1,) * (rank - a.ndim) + a.shape)
    return a if perm is None else np.ascontiguousarray(a.transpose(perm))


def transposed(act: Act, p: Sequence[int]) -> Act:
    """The same IR value seen as ``source.transpose(p)`` (a TF Transpose costs no IR node):
    its layout becomes ``R`` with ``R[i] = p^-1[P[i]]``."""
    invp = inverse(p)
    big_p = full(act.perm, act.rank)
    return Act(act.ref, tuple(act.src_shape[i] for i in p), norm([invp[i] for i in big_p]),
               act.dtype)
