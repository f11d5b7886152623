"""Shared helpers for the spatial ops (geometry lives in pool.py / conv.py), and the attribute
checks every backend applies to Conv, ConvTranspose and Pool before emitting them (``c`` is a
backend's view of the node: ``attr(key, default)`` and ``weight_shape(role)``). Not an op."""

from __future__ import annotations


def check_nchw(shape, op):
    if len(shape) != 4:
        raise ValueError(f"{op} needs a 4-D NCHW input, got shape {tuple(shape)}")


def per_axis_issues(c, n: int, keys) -> list[str]:
    """Per-axis attributes (one value per spatial axis, or none) and pads (begin per axis,
    then end; not negative)."""
    out = []
    for key in keys:
        v = c.attr(key) or []
        if len(v) not in (0, n):
            out.append(f"{key}={list(v)}: needs one value per spatial axis ({n})")
    p = c.attr("pads") or []
    if len(p) not in (0, 2 * n):
        out.append(f"pads={list(p)}: needs {2 * n} values (begin per axis, then end)")
    elif p and min(p) < 0:
        out.append(f"pads={list(p)}: negative pads are not supported")
    return out


def conv_issues(c, op_name: str, wdoc: str, extra=()) -> list[str]:
    """Conv / ConvTranspose: 1 to 3 spatial axes (the length of kernel_shape), per-axis
    attributes to match, a weight with as many kernel axes."""
    k = c.attr("kernel_shape") or []
    n = len(k)
    if not 1 <= n <= 3:
        return [f"kernel_shape={list(k)}: 1 to 3 spatial axes are supported"]
    out = per_axis_issues(c, n, ("strides", "dilations", *extra))
    w = c.weight_shape("weight")
    if w is not None and len(w) != n + 2:
        out.append(f"weight shape {list(w)}: {op_name} needs {wdoc} with {n} kernel axes")
    return out


def pool_window_issues(c, n) -> list[str]:
    """Pool with n spatial axes: 1 to 3, a kernel unless global, per-axis attributes."""
    if n is None or not 1 <= n <= 3:
        return [f"{n} spatial axes: only 1 to 3 are supported"]
    if c.attr("global_pooling", False):
        return []
    out = [] if c.attr("kernel_shape") else ["kernel_shape is required unless global_pooling"]
    return out + per_axis_issues(c, n, ("strides", "dilations"))
