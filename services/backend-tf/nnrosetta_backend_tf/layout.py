"""Tensor layouts: how a Keras tensor holds an IR tensor.

The IR is channels-first (NCHW); the generated Keras model is channels-last (NHWC), so every
value carries a ``Layout``: ``perm`` says which IR axis each Keras axis holds
(``keras = numpy.transpose(ir, perm)``), and ``order`` (rare) says that the last Keras axis is
a flattened block whose features are permuted (``keras[..., j] = ir[..., order[j]]``): what
``Flatten`` of a channels-last activation gives, consumed by a Dense layer whose weight rows
are permuted to match instead of transposing the activation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Layout:
    perm: tuple[int, ...]
    order: np.ndarray | None = field(default=None, compare=False, hash=False, repr=False)
    order_key: str = ""   # identifies ``order`` for comparisons ("" = no order)

    @property
    def rank(self) -> int:
        return len(self.perm)

    @property
    def is_identity(self) -> bool:
        return self.order is None and self.perm == tuple(range(len(self.perm)))

    @property
    def plain(self) -> bool:
        """A pure axis permutation (no feature order)."""
        return self.order is None

    def keras_axis(self, ir_axis: int) -> int:
        """The Keras axis holding IR axis ``ir_axis`` (negative allowed)."""
        return self.perm.index(ir_axis % self.rank)

    def keras_shape(self, ir_shape: Sequence[int]) -> tuple[int, ...]:
        return tuple(int(ir_shape[p]) for p in self.perm)

    def to_ir(self, value: np.ndarray) -> np.ndarray:
        """A Keras value in this layout -> the IR value (NumPy)."""
        out = np.transpose(value, np.argsort(self.perm)) if self.perm else value
        if self.order is not None:
            inverse = np.argsort(self.order)
            out = np.take(out, inverse, axis=-1)
        return out

    def describe(self) -> str:
        if self.order is not None:
            return "flattened channels-last (feature order permuted)"
        return axes_name(self.perm)

    def to_json(self) -> dict:
        d: dict = {"perm": list(self.perm)}
        if self.order is not None:
            d["order"] = [int(v) for v in self.order]
        return d

    @classmethod
    def from_json(cls, d: dict) -> Layout:
        order = d.get("order")
        if order is None:
            return cls(tuple(d["perm"]))
        arr = np.asarray(order, dtype=np.int64)
        return cls(tuple(d["perm"]), arr, f"json:{len(arr)}")


def identity(rank: int) -> Layout:
    return Layout(tuple(range(rank)))


def channels_last(rank: int) -> Layout:
    """(0, 2, .., rank - 1, 1): NCHW -> NHWC (NCW -> NWC, NCDHW -> NDHWC)."""
    if rank < 3:
        return identity(rank)
    return Layout((0, *range(2, rank), 1))


def conversion(src: Layout, dst: Layout) -> tuple[int, ...]:
    """The transpose that takes a Keras tensor in ``src`` to ``dst`` (both plain)."""
    inv = np.argsort(src.perm)
    return tuple(int(inv[p]) for p in dst.perm)


def moves_only_ones(t: Sequence[int], keras_shape: Sequence[int]) -> bool:
    """Whether transposing by ``t`` only moves size-1 axes (then it is a reshape)."""
    big = [a for a in t if keras_shape[a] != 1]
    return big == sorted(big)


def drop_axes(layout: Layout, ir_axes: Sequence[int]) -> Layout:
    """The layout after removing IR axes (a reduction without keepdims, a squeeze)."""
    gone = {a % layout.rank for a in ir_axes}
    kept = [p for p in layout.perm if p not in gone]
    rank_of = {a: i for i, a in enumerate(sorted(kept))}
    return Layout(tuple(rank_of[p] for p in kept))


def flatten_order(layout: Layout, ir_shape: Sequence[int], start: int) -> np.ndarray | None:
    """Keras ``Flatten`` of dims ``start..`` of a tensor in ``layout`` gives the IR features in
    this order (None when it is the IR's own order)."""
    dims = [int(d) for d in ir_shape[start:]]
    sub = [p - start for p in layout.perm if p >= start]
    order = np.arange(int(np.prod(dims, dtype=np.int64))).reshape(dims).transpose(sub).reshape(-1)
    if np.array_equal(order, np.arange(order.size)):
        return None
    return order


def axes_name(perm: Sequence[int]) -> str:
    """(0, 2, 3, 1) -> "NHWC" for rank 3..5 (N, C, spatial); else "perm(0, 2, 1)"."""
    rank = len(perm)
    letters = {3: "NCW", 4: "NCHW", 5: "NCDHW"}.get(rank)
    if letters is None:
        return "as in the IR" if tuple(perm) == tuple(range(rank)) else f"perm{tuple(perm)}"
    return "".join(letters[p] for p in perm)
