"""Resize: F.interpolate where it gives exactly the ONNX result for this node, else explicit
taps per resized dim (index_select for nearest, ``resize_taps`` for linear / cubic). Scales,
sizes or roi computed at run time: ``resize_runtime``, which evaluates the taps in forward."""

from __future__ import annotations

import numpy as np

from nnrosetta.ir.ops._axes import norm_axes
from nnrosetta.ir.ops.resize import RUNTIME_ROLES, axis_roi, axis_taps, plan
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
codegen.HELPERS.setdefault("resize_runtime", '''
def resize_cubic(s: torch.Tensor, a: float) -> torch.Tensor:
    """The cubic convolution kernel (coefficient a) at distances s."""
    s = s.abs()
    near = ((a + 2) * s - (a + 3)) * s * s + 1
    far = ((a * s - 5 * a) * s + 8 * a) * s - 4 * a
    return torch.where(s <= 1, near, torch.where(s < 2, far, torch.zeros_like(s)))


def resize_runtime(x: torch.Tensor, axes: list[int], scales: torch.Tensor | None,
                   sizes: torch.Tensor | None, roi: torch.Tensor | None, mode: str,
                   coordinate_transformation_mode: str, nearest_mode: str,
                   cubic_coeff_a: float, exclude_outside: bool, extrapolation_value: float,
                   antialias: bool, keep_aspect_ratio_policy: str) -> torch.Tensor:
    """ONNX Resize (opset 19) whose scales or sizes (and roi) are only known at run time:
    per resized dim, each output index is mapped to an input coordinate and interpolated
    from its neighbours (taps), the kernel evaluated now for the actual sizes."""
    ins = [int(x.shape[d]) for d in axes]
    scale: list[float] = []
    outs: list[int] = []
    if scales is not None and scales.numel() > 0:
        given = scales.double().reshape(-1)
        for i in range(len(axes)):
            scale.append(float(given[i]))
            outs.append(int(scale[i] * ins[i]))
    else:
        assert sizes is not None, "Resize needs scales or sizes"
        given = sizes.long().reshape(-1)
        for i in range(len(axes)):
            outs.append(int(given[i]))
            scale.append(outs[i] / ins[i])
        if keep_aspect_ratio_policy != "stretch":
            one = scale[0]
            for v in scale:
                one = min(one, v) if keep_aspect_ratio_policy == "not_larger" else max(one, v)
            for i in range(len(axes)):
                scale[i] = one
                outs[i] = int(one * ins[i] + 0.5)
    starts = [0.0] * len(axes)
    ends = [1.0] * len(axes)
    if roi is not None and roi.numel() > 0:
        given = roi.double().reshape(-1)
        for i in range(len(axes)):
            starts[i], ends[i] = float(given[i]), float(given[len(axes) + i])
    y = x
    for i, d in enumerate(axes):
        n, out, s, r0, r1 = ins[i], outs[i], scale[i], starts[i], ends[i]
        crop = coordinate_transformation_mode == "tf_crop_and_resize"
        if s == 1.0 and out == n and (not crop or (r0 == 0.0 and r1 == 1.0)):
            continue
        o = torch.arange(out, dtype=torch.float64, device=x.device)
        out_f = s * n
        ctm = coordinate_transformation_mode
        if ctm == "align_corners":
            c = o * 0 if out_f == 1 else o * (n - 1) / (out_f - 1)
        elif ctm == "asymmetric":
            c = o / s
        elif ctm == "tf_half_pixel_for_nn":
            c = (o + 0.5) / s
        elif ctm == "tf_crop_and_resize":
            if out_f == 1:
                c = o * 0 + (r1 - r0) * (n - 1) / 2
            else:
                c = o * (r1 - r0) * (n - 1) / (out_f - 1)
            c = c + r0 * (n - 1)
        elif ctm == "pytorch_half_pixel":
            c = o * 0 - 0.5 if out_f == 1 else (o + 0.5) / s - 0.5
        elif ctm == "half_pixel_symmetric":
            c = n / 2 * (1 - out / out_f) + (o + 0.5) / s - 0.5
        else:
            c = (o + 0.5) / s - 0.5
        fl = torch.floor(c)
        ratio = torch.where(c == fl, torch.ones_like(c), c - fl)[:, None]
        if mode == "nearest":
            if nearest_mode == "round_prefer_floor":
                hi = ratio > 0.5
            elif nearest_mode == "round_prefer_ceil":
                hi = ratio >= 0.5
            else:                                   # floor: never up; ceil: always
                hi = ratio > (2.0 if nearest_mode == "floor" else -1.0)
            hi = hi | (ratio == 1)
            w = torch.cat([(~hi).double(), hi.double()], 1)
        elif antialias:
            sc = min(s, 1.0)
            reach = 1.0 if mode == "linear" else 2.0
            start = int((-reach / sc) // 1.0) + 1
            k = torch.arange(start, 2 - start, dtype=torch.float64, device=x.device)[None, :]
            if mode == "linear":
                w = (1 - ((k - ratio) * sc).abs()).clamp(0, 1)
            else:
                w = resize_cubic(sc * (k - ratio), cubic_coeff_a)
            w = w / w.sum(1, keepdim=True)
        elif mode == "linear":
            w = torch.cat([1 - ratio, ratio], 1)
        else:
            w = resize_cubic(torch.cat([ratio + 1, ratio, 1 - ratio, 2 - ratio], 1),
                             cubic_coeff_a)
        taps = w.shape[1]
        pad = (taps + 1) // 2
        cp = c + pad
        p = torch.floor(cp)
        frac = cp - p
        if taps % 2 == 0:
            first = (frac != 0).long() - taps // 2
        else:
            first = (frac > 0.5).long() - (taps - 1) // 2
        index = (p.long() + first)[:, None] + torch.arange(taps, device=x.device)[None, :] - pad
        if exclude_outside:
            w = torch.where((index < 0) | (index >= n), torch.zeros_like(w), w)
            total = w.sum(1, keepdim=True)
            w = w / torch.where(total == 0, torch.ones_like(total), total)
        index = index.clamp(0, n - 1)
        shape = list(y.shape)
        picked = y.index_select(d, index.reshape(-1))
        picked = picked.reshape(shape[:d] + [out, taps] + shape[d + 1:])
        y = (picked * w.to(y.dtype).reshape([out, taps] + [1] * (len(shape) - d - 1))).sum(d + 1)
        if crop:
            outside = ((c < 0) | (c > n - 1)).reshape([out] + [1] * (len(shape) - d - 1))
            y = torch.where(outside, torch.full_like(y, extrapolation_value), y)
    return y
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


def _dynamic(c) -> bool:
    return any(c.dynamic(k) for k in RUNTIME_ROLES)


def check(c) -> list[str]:
    shape = c.in_shape()
    if shape is None:
        return ["the input shape is unknown (the interpolation taps depend on it)"]
    if _dynamic(c):
        return []
    try:
        plan(c.attrs, shape)
    except ValueError as err:
        return [str(err)]
    return []


def _emit_runtime(e) -> None:
    """resize_runtime(x, ...) with the run-time roi / scales / sizes (tensors), the constant
    ones as literal tensors, and the other attributes as they are."""
    a = e.attrs
    rank = len(e.in_shape())
    axes = norm_axes(a.get("axes") or range(rank), rank)

    def value(role: str) -> str:
        if e.dynamic(role):
            return e.param(role)
        if a.get(role):
            kind = "torch.int64" if role == "sizes" else "torch.float64"
            return f"torch.tensor({fmt_list(a[role])}, dtype={kind})"
        return "None"

    args = [e.x, f"axes={fmt_list(axes)}", *(f"{k}={value(k)}" for k in ("scales", "sizes", "roi")),
            f'mode="{a["mode"]}"',
            f'coordinate_transformation_mode="{a["coordinate_transformation_mode"]}"',
            f'nearest_mode="{a["nearest_mode"]}"',
            f"cubic_coeff_a={fmt_float(a['cubic_coeff_a'])}",
            f"exclude_outside={bool(a['exclude_outside'])}",
            f"extrapolation_value={fmt_float(a['extrapolation_value'])}",
            f"antialias={bool(a['antialias'])}",
            f'keep_aspect_ratio_policy="{a["keep_aspect_ratio_policy"]}"']
    e.assign(f"{e.helper('resize_runtime')}({', '.join(args)})")


@emitter("Resize", check=check)
def emit(e) -> None:
    if _dynamic(e):
        _emit_runtime(e)
        return
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
