"""Axis helpers shared by the structural and reduction ops. Not an op."""

from __future__ import annotations


def norm_axis(axis: int, rank: int, what: str = "axis") -> int:
    """``axis`` in ``[-rank, rank)`` -> ``[0, rank)``; ValueError otherwise."""
    if not -rank <= axis < rank:
        raise ValueError(f"{what} {axis} out of range for rank {rank}")
    return axis % rank


def norm_axes(axes, rank: int, what: str = "axes") -> list[int]:
    """Each axis normalized to ``[0, rank)``; duplicates are an error."""
    out = [norm_axis(int(a), rank, what) for a in axes]
    if len(set(out)) != len(out):
        raise ValueError(f"{what} {list(axes)} repeat an axis")
    return out


def broadcast(a, b) -> tuple[int, ...]:
    """NumPy (multidirectional) broadcast of two shapes; ValueError if they do not broadcast."""
    a, b = tuple(a), tuple(b)
    n = max(len(a), len(b))
    a, b = (1,) * (n - len(a)) + a, (1,) * (n - len(b)) + b
    out = []
    for x, y in zip(a, b, strict=True):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"shapes {a} and {b} do not broadcast")
        out.append(y if x == 1 else x)
    return tuple(out)
