"""Helpers shared by the 2-D spatial emitters (not an emitter)."""

from __future__ import annotations


def pads_split(pads: list[int]) -> tuple[list[int], list[int]]:
    """IR pads [top, left, bottom, right] -> ([top, left], [bottom, right])."""
    p = [int(x) for x in pads]
    return p[: len(p) // 2], p[len(p) // 2:]


def torch_pad_arg(pads: list[int]) -> list[int]:
    """IR pads [top, left, bottom, right] -> F.pad's [left, right, top, bottom]."""
    (t, left), (b, r) = pads_split(pads)
    return [left, r, t, b]


def check_2d(c, keys: tuple[str, ...], pads_key: str = "pads") -> list[str]:
    out = []
    for k in keys:
        v = c.attr(k)
        if v is not None and len(v) != 2:
            out.append(f"{k}={list(v)}: only 2-D (two values) is supported")
    p = c.attr(pads_key)
    if p is not None and len(p) != 4:
        out.append(f"{pads_key}={list(p)}: only [top, left, bottom, right] is supported")
    elif p is not None and min(p) < 0:
        out.append(f"{pads_key}={list(p)}: negative pads are not supported")
    return out
