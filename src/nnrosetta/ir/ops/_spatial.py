"""Shared helpers for the 2-D spatial ops (Conv, ConvTranspose, Pool, LRN). Not an op."""

from __future__ import annotations

import numpy as np


def pair(attrs, key):
    v = list(attrs[key])
    if len(v) != 2:
        raise ValueError(f"{key} must have 2 values (h, w), got {v}")
    return [int(d) for d in v]


def pads4(attrs):
    """pads [top, left, bottom, right] -> ([top, left], [bottom, right])."""
    p = [int(d) for d in attrs["pads"]]
    if len(p) != 4:
        raise ValueError(f"pads must be [top, left, bottom, right], got {p}")
    if min(p) < 0:
        raise ValueError(f"pads must be >= 0, got {p}")
    return p[:2], p[2:]


def check_nchw(shape, op):
    if len(shape) != 4:
        raise ValueError(f"{op} needs a 4-D NCHW input, got shape {tuple(shape)}")


def conv_out(size, k, s, pb, pe, d=1):
    """Output length of a convolution (floor rounding)."""
    ext = (k - 1) * d + 1
    n = (size + pb + pe - ext) // s + 1
    if n < 1:
        raise ValueError(f"window {ext} does not fit input {size} with pads ({pb}, {pe})")
    return n


def pool_out(size, k, s, pb, pe, ceil_mode):
    """Output length of a pooling window; with ceil_mode a last window that would start at or
    beyond input + pad_begin is dropped (Caffe and PyTorch)."""
    span = size + pb + pe - k
    if span < 0:
        raise ValueError(f"kernel {k} does not fit input {size} with pads ({pb}, {pe})")
    n = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (n - 1) * s >= size + pb:
        n -= 1
    return n


def windows(xp, ext, strides, dil, out):
    """View of xp [..., H, W] as [..., oh, ow, kh, kw] windows (extent ext, dilation dil)."""
    v = np.lib.stride_tricks.sliding_window_view(xp, tuple(ext), axis=(-2, -1))
    v = v[..., ::strides[0], ::strides[1], ::dil[0], ::dil[1]]
    return v[..., :out[0], :out[1], :, :]
