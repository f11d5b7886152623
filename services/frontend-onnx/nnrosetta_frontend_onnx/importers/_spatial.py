"""Shared geometry of the 2-D spatial importers (Conv, ConvTranspose, pooling)."""

from __future__ import annotations

import math

from nnrosetta_frontend_onnx.importers._base import NodeIssue, ONode, Unsupported


def two(onode: ONode, key: str, default: list[int]) -> list[int]:
    v = [int(x) for x in onode.attr(key, default)]
    if len(v) != 2:
        raise Unsupported(f"{onode.label}: {key} {v} is not 2-D (the IR has 2-D "
                          f"{onode.op_type} only)")
    return v


def check_2d(onode: ONode, shape: tuple[int, ...]) -> None:
    if len(shape) != 4:
        raise Unsupported(f"{onode.label}: input of rank {len(shape)}; the IR has 2-D "
                          f"(NCHW) {onode.op_type} only")


def auto_pads(onode: ONode, in_hw: list[int], k: list[int], s: list[int],
              d: list[int]) -> list[int]:
    """pads [top, left, bottom, right] from auto_pad / pads for a forward window op."""
    mode = onode.attr("auto_pad", "NOTSET") or "NOTSET"
    if mode == "NOTSET":
        p = [int(x) for x in onode.attr("pads", [0, 0, 0, 0])]
        if len(p) != 4:
            raise Unsupported(f"{onode.label}: pads {p} are not 2-D")
        if min(p) < 0:
            raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: negative pads {p}")
        return p
    if mode == "VALID":
        return [0, 0, 0, 0]
    if mode not in ("SAME_UPPER", "SAME_LOWER"):
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: unknown auto_pad {mode!r}")
    begin, end = [], []
    for a in range(2):
        out = math.ceil(in_hw[a] / s[a])
        total = max((out - 1) * s[a] + (k[a] - 1) * d[a] + 1 - in_hw[a], 0)
        small = total // 2
        if mode == "SAME_UPPER":
            begin.append(small)
            end.append(total - small)
        else:
            begin.append(total - small)
            end.append(small)
    return begin + end
