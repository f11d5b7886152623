"""Helpers shared by emitters (not an emitter)."""

from __future__ import annotations


def ints(v) -> list[int]:
    return [int(x) for x in v]


def channel_shape(c, rank: int | None, n: int) -> list[int]:
    """[C] laid out to broadcast against an N, C, ... tensor of the given rank: [C, 1, 1]."""
    r = rank if rank is not None else 4
    return [n] + [1] * max(0, r - 2)
