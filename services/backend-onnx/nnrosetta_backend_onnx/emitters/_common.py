"""Helpers shared by emitters (not an emitter)."""

from __future__ import annotations


def check_2d(c, keys: tuple[str, ...], pads_key: str = "pads") -> list[str]:
    out = []
    for k in keys:
        v = c.attr(k)
        if v is not None and len(v) not in (0, 2):
            out.append(f"{k}={list(v)}: only 2-D (two values) is supported")
    p = c.attr(pads_key)
    if p is not None and len(p) != 4:
        out.append(f"{pads_key}={list(p)}: only [top, left, bottom, right] is supported")
    elif p is not None and min(p) < 0:
        out.append(f"{pads_key}={list(p)}: negative pads are not supported")
    return out


def ints(v) -> list[int]:
    return [int(x) for x in v]


def channel_shape(c, rank: int | None, n: int) -> list[int]:
    """[C] laid out to broadcast against an N, C, ... tensor of the given rank: [C, 1, 1]."""
    r = rank if rank is not None else 4
    return [n] + [1] * max(0, r - 2)
