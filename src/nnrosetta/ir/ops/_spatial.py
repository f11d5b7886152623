"""Shared helper for LRN (the N-d spatial ops keep theirs in pool.py / conv.py). Not an op."""

from __future__ import annotations


def check_nchw(shape, op):
    if len(shape) != 4:
        raise ValueError(f"{op} needs a 4-D NCHW input, got shape {tuple(shape)}")
