"""Shared geometry of the convolution importers (Conv, ConvTranspose; 1 to 3 spatial axes)."""

from __future__ import annotations

import math

from nnrosetta_frontend_onnx.importers._base import NodeIssue, ONode, Unsupported


def spatial_rank(onode: ONode, shape: tuple[int, ...]) -> int:
    """The number of spatial axes (1 to 3) of an N, C, *spatial input."""
    n = len(shape) - 2
    if not 1 <= n <= 3:
        raise Unsupported(f"{onode.label}: input of rank {len(shape)}; the IR has "
                          f"{onode.op_type} over 1 to 3 spatial axes (N, C, D1[, D2[, D3]])")
    return n


def per_axis(onode: ONode, key: str, n: int, default: list[int]) -> list[int]:
    """An ints attribute with one value per spatial axis (absent or empty -> ``default``)."""
    v = [int(x) for x in onode.attr(key, None) or default]
    if len(v) != n:
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: {key} {v} has {len(v)} values for "
                        f"{n} spatial axes")
    return v


def auto_pads(onode: ONode, spatial: list[int], k: list[int], s: list[int],
              d: list[int]) -> list[int]:
    """pads [begin per axis..., end per axis...] from auto_pad / pads for a forward window
    op."""
    n = len(spatial)
    mode = onode.attr("auto_pad", "NOTSET") or "NOTSET"
    if mode == "NOTSET":
        p = [int(x) for x in onode.attr("pads", None) or [0] * (2 * n)]
        if len(p) != 2 * n:
            raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: pads {p} need {2 * n} values")
        if min(p) < 0:
            raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: negative pads {p}")
        return p
    if mode == "VALID":
        return [0] * (2 * n)
    if mode not in ("SAME_UPPER", "SAME_LOWER"):
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: unknown auto_pad {mode!r}")
    begin, end = [], []
    for a in range(n):
        out = math.ceil(spatial[a] / s[a])
        total = max((out - 1) * s[a] + (k[a] - 1) * d[a] + 1 - spatial[a], 0)
        small = total // 2
        if mode == "SAME_UPPER":
            begin.append(small)
            end.append(total - small)
        else:
            begin.append(total - small)
            end.append(small)
    return begin + end
