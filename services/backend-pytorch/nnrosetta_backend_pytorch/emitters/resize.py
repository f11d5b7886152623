"""Resize: F.interpolate where it gives exactly the ONNX result for this node, else explicit
taps per resized dim (index_select for nearest, ``resize_taps`` for linear / cubic)."""

from __future__ import annotations

import numpy as np

from nnrosetta.ir.ops.resize import axis_roi, axis_taps, plan
from nnrosetta_backend_pytorch import codegen
from nnrosetta_backend_pytorch.codegen import fmt_float, fmt_list
from nnrosetta_backend_pytorch.emitters import emitter

codegen.HELPERS.setdefault("resize_taps", '''
def resize_taps(x: torch.Tensor, dim: int, index: torch.Tensor,
                weight: torch.Tensor) -> torch.Tensor:
    """Resize along dim: out[i] = sum_k weight[i, k] * x[index[i, k]] (index and weight are
    [out, taps]; the interpolation kernel evaluated once for the node's static shape)."""
    taps = x.index_select(dim, index.flatten()).unflatten(dim, index.shape)
    return (taps * weight.view(list(index.shape) + [1] * (x.dim() - dim - 1))).sum(dim + 1)
''')

_LINEAR = {1: "linear", 2: "bilinear", 3: "trilinear"}


def _candidates(attrs, shape, p) -> list[tuple[str, list[str]]]:
    """F.interpolate calls that may equal this Resize: (mode, keyword arguments)."""
    rank = len(shape)
    if not 3 <= rank <= 5 or any(d < 2 for d in p.axes) or not p.axes:
        return []
    spatial = list(range(2, rank))
    mode = attrs["mode"]
    sizing = []
    if attrs.get("scales") and attrs.get("keep_aspect_ratio_policy", "stretch") == "stretch":
        sizing.append(f"scale_factor={_floats([p.scales[d] for d in spatial])}")
    sizing.append(f"size={_ints([p.out_shape[d] for d in spatial])}")
    extra = []
    if mode == "nearest":
        modes = ["nearest", "nearest-exact"]
    else:
        if mode == "cubic" and len(spatial) != 2:
            return []
        modes = ["bicubic" if mode == "cubic" else _LINEAR[len(spatial)]]
        if attrs.get("coordinate_transformation_mode") == "align_corners":
            extra.append("align_corners=True")
        if attrs.get("antialias"):
            if len(spatial) != 2:
                return []
            extra.append("antialias=True")
    return [(m, [s, *extra]) for m in modes for s in sizing]


def _ints(v) -> str:
    return str(int(v[0])) if len(v) == 1 else fmt_list(v)


def _floats(v) -> str:
    return fmt_float(v[0]) if len(v) == 1 else "[" + ", ".join(fmt_float(s) for s in v) + "]"


def _matching_call(attrs, shape, p) -> str | None:
    """The first F.interpolate call whose output equals the reference (to float32 precision)
    on a random probe of the node's spatial shape: interpolation is linear in x, so a random
    probe shows any difference in taps or weights."""
    cands = _candidates(attrs, shape, p)
    if not cands:
        return None
    try:
        import torch
        import torch.nn.functional as F  # noqa: N812
    except ImportError:  # pragma: no cover - generation without torch: explicit taps
        return None
    from nnrosetta.ir import registry

    spatial = list(range(2, len(shape)))
    if attrs.get("keep_aspect_ratio_policy", "stretch") == "stretch":
        # batch and channels do not change: probe one of each, the same resize of the rest
        probe_shape = [1, 1, *shape[2:]]
        key = "scales" if attrs.get("scales") else "sizes"
        vals = p.scales if key == "scales" else p.out_shape
        probe_attrs = {**attrs, "axes": spatial, "scales": [], "sizes": [],
                       key: [vals[d] for d in spatial]}
        if p.roi is not None:
            r = len(shape)
            probe_attrs["roi"] = [p.roi[d] for d in spatial] + [p.roi[r + d] for d in spatial]
    elif int(np.prod(shape)) <= 1 << 21:
        probe_shape, probe_attrs = list(shape), attrs
    else:
        return None
    probe = np.random.default_rng(0).standard_normal(probe_shape)
    want = registry.get("Resize").reference_fn(probe_attrs, [probe], {})[0]
    for mode, kw in cands:
        src = f'F.interpolate(x, mode="{mode}", {", ".join(kw)})'
        try:
            got = eval(src, {"F": F, "x": torch.from_numpy(probe)}).numpy()  # noqa: S307
        except Exception:  # noqa: BLE001, S112 - a refused combination is no candidate
            continue
        if got.shape == want.shape and np.allclose(got, want, rtol=1e-6, atol=1e-6):
            return src
    return None


def check(c) -> list[str]:
    shape = c.in_shape()
    if shape is None:
        return ["the input shape is unknown (the interpolation taps depend on it)"]
    try:
        plan(c.attrs, shape)
    except ValueError as err:
        return [str(err)]
    return []


@emitter("Resize", check=check)
def emit(e) -> None:
    shape = [int(d) for d in e.in_shape()]
    p = plan(e.attrs, shape)
    if not p.axes:
        e.assign(e.x)
        return
    call = _matching_call(e.attrs, shape, p)
    if call is not None:
        e.assign(call.replace("(x,", f"({e.x},", 1))
        return
    cur = e.x
    value = float(e.attr("extrapolation_value", 0.0))
    for d in p.axes:
        idx, w, outside = axis_taps(e.attrs, shape[d], p.out_shape[d], p.scales[d],
                                    axis_roi(p, d))
        if e.attrs["mode"] == "nearest":  # one-hot weights: a single gather
            pick = idx[np.arange(len(idx)), w.argmax(axis=1)]
            index = e.buffer(pick.astype(np.int64), suffix=f"index{d}")
            e.assign(f"{cur}.index_select({d}, {index})")
        else:
            index = e.buffer(idx, suffix=f"index{d}")
            weight = e.buffer(w.astype(np.float32), suffix=f"weight{d}")
            e.assign(f"{e.helper('resize_taps')}({cur}, {d}, {index}, {weight})")
        if outside is not None:
            view = [1] * len(shape)
            view[d] = -1
            mask = e.buffer(outside, suffix=f"outside{d}")
            e.assign(f"torch.where({mask}.view({fmt_list(view)}), {fmt_float(value)}, {e.out})")
        cur = e.out
        shape[d] = p.out_shape[d]
