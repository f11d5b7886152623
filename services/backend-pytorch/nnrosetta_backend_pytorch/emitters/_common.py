"""Helpers shared by the spatial emitters (not an emitter)."""

from __future__ import annotations


def pads_split(pads: list[int]) -> tuple[list[int], list[int]]:
    """IR pads [top, left, bottom, right] -> ([top, left], [bottom, right])."""
    p = [int(x) for x in pads]
    return p[: len(p) // 2], p[len(p) // 2:]


def torch_pad_arg(pads: list[int]) -> list[int]:
    """IR pads [top, left, bottom, right] -> F.pad's [left, right, top, bottom]."""
    (t, left), (b, r) = pads_split(pads)
    return [left, r, t, b]
