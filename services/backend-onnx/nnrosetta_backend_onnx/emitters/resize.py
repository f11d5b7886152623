"""Resize: roi / scales / sizes as initializers, or as the IR node's inputs when they are
computed at run time (written as they are at opset >= 18; before 18 only without axes or the
rewrites below, which need their values). Opset >= 18 takes the IR attributes as they
are; before 18 axes are expanded to every dim, and antialias (only as a no-op when
upsampling), keep_aspect_ratio_policy and (before 19) half_pixel_symmetric are rewritten where
an equal older form exists, refused otherwise."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrosetta.ir.ops._axes import norm_axes
from nnrosetta.ir.ops.resize import RUNTIME_ROLES, plan
from nnrosetta_backend_onnx.emitters import emitter

_DEFAULTS = {"coordinate_transformation_mode": "half_pixel", "nearest_mode": "round_prefer_floor",
             "cubic_coeff_a": -0.75, "exclude_outside": False, "extrapolation_value": 0.0,
             "antialias": False, "keep_aspect_ratio_policy": "stretch"}


_CROPS = ("align_corners", "tf_crop_and_resize")


def _crop_with_sizes(a: dict[str, Any], shape) -> dict[str, Any]:
    """With scales, ``align_corners`` and ``tf_crop_and_resize`` map ``x = r0 * (in - 1) + y *
    (r1 - r0) * (in - 1) / (in * scale - 1)`` (the ONNX reference divides by the float output
    length; align_corners is roi [0, 1]). onnxruntime divides by the integer output length
    and, for tf_crop_and_resize, sizes the output by the roi too; so where they would differ
    the same mapping is written as tf_crop_and_resize with ``sizes = floor(in * scale)`` and
    ``r1' = r0 + (r1 - r0) * (out - 1) / (in * scale - 1)``, on which both agree."""
    ctm = a.get("coordinate_transformation_mode")
    if ctm not in _CROPS or not a.get("scales") or shape is None:
        return a
    p = plan(a, shape)
    axes = norm_axes(a.get("axes") or range(len(shape)), len(shape))
    k = len(axes)
    out_f = [float(np.float32(s)) * shape[d] for s, d in zip(a["scales"], axes, strict=True)]
    if ctm == "align_corners" and all(f == p.out_shape[d]
                                      for f, d in zip(out_f, axes, strict=True)):
        return a
    roi = list(a.get("roi") or []) if ctm == "tf_crop_and_resize" else []
    starts, ends = (roi[:k], roi[k:]) if roi else ([0.0] * k, [1.0] * k)
    new_ends = []
    for i, d in enumerate(axes):
        out = p.out_shape[d]
        if ctm == "tf_crop_and_resize" and out_f[i] == 1:
            new_ends.append(ends[i])                       # both take the roi's centre
        else:
            new_ends.append(starts[i] + (ends[i] - starts[i]) * (out - 1)
                            / max(out_f[i] - 1, 1e-9))
    return {**a, "coordinate_transformation_mode": "tf_crop_and_resize", "scales": [],
            "sizes": [p.out_shape[d] for d in axes], "roi": list(starts) + new_ends,
            "extrapolation_value": a.get("extrapolation_value", 0.0)}


def _lower(c) -> tuple[dict[str, Any], dict[str, list], list[str]]:
    """(ONNX attributes, {"roi"/"scales"/"sizes": values}, problems) at c.opset."""
    a = _crop_with_sizes(dict(c.attrs), c.in_shape())
    ctm = a.get("coordinate_transformation_mode", "half_pixel")
    problems: list[str] = []
    if c.opset < 13:
        return {}, {}, ["Resize is written at opset >= 13"]
    if any(c.dynamic(k) for k in RUNTIME_ROLES):
        return _lower_dynamic(c, a, ctm)
    if ctm == "tf_half_pixel_for_nn":
        problems.append("coordinate_transformation_mode tf_half_pixel_for_nn exists in opsets "
                        "11 and 12 only")
    shape = c.in_shape()
    low = c.opset < 18
    needs_shape = low and (a.get("axes") or a.get("keep_aspect_ratio_policy") != "stretch"
                           or a.get("antialias") or ctm == "half_pixel_symmetric")
    if (needs_shape or (c.opset < 19 and ctm == "half_pixel_symmetric")) and shape is None:
        return {}, {}, problems + ["the input shape is unknown"]
    p = plan(a, shape) if shape is not None else None
    inputs: dict[str, list] = {}
    if ctm == "half_pixel_symmetric" and c.opset < 19:
        if any(p.out_shape[d] != p.scales[d] * shape[d] for d in p.axes):
            problems.append("half_pixel_symmetric with a non-integral output size needs "
                            "opset >= 19")
        a["coordinate_transformation_mode"] = "half_pixel"
    if not low:
        for k in ("scales", "sizes", "roi"):
            if a.get(k):
                inputs[k] = list(a[k])
        attrs = {k: v for k, v in a.items() if k in _DEFAULTS or k in ("mode", "axes")}
    else:
        if a.get("antialias"):
            if any(p.scales[d] < 1 for d in p.axes):
                problems.append("antialias when downsampling needs opset >= 18")
            a["antialias"] = False
        policy = a.get("keep_aspect_ratio_policy", "stretch")
        if policy != "stretch" or (a.get("axes") and a.get("scales")):
            s32 = [float(np.float32(s)) for s in p.scales]
            if any(int(s * n) != o for s, n, o in zip(s32, shape, p.out_shape, strict=True)):
                problems.append(f"keep_aspect_ratio_policy={policy!r} with these sizes needs "
                                "opset >= 18")
            inputs["scales"] = s32
        elif a.get("axes"):
            inputs["sizes"] = list(p.out_shape)
        else:
            for k in ("scales", "sizes"):
                if a.get(k):
                    inputs[k] = list(a[k])
        if a.get("roi"):
            inputs["roi"] = list(p.roi) if p is not None else list(a["roi"])
        attrs = {k: v for k, v in a.items() if k in _DEFAULTS or k == "mode"}
        attrs.pop("antialias", None)
        attrs.pop("keep_aspect_ratio_policy", None)
    return _finish(ctm, attrs, inputs), inputs, problems


def _finish(ctm: str, attrs: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
    """The ONNX attributes: roi and extrapolation_value only for tf_crop_and_resize (roi
    dropped from ``inputs`` otherwise), defaults left out, booleans as ints."""
    if ctm != "tf_crop_and_resize":
        inputs.pop("roi", None)
        attrs.pop("extrapolation_value", None)
    attrs = {k: v for k, v in attrs.items() if v != _DEFAULTS.get(k, object()) and v != []}
    for k in ("exclude_outside", "antialias"):
        if k in attrs:
            attrs[k] = int(attrs[k])
    return attrs


def _lower_dynamic(c, a: dict[str, Any], ctm: str
                   ) -> tuple[dict[str, Any], dict[str, list], list[str]]:
    """Run-time roi / scales / sizes go to the ONNX node's inputs as they are: at opset >= 18
    every attribute means the same; before 18 axes, antialias, keep_aspect_ratio_policy and
    half_pixel_symmetric would need the values to be rewritten."""
    problems = []
    if c.opset < 18:
        low = [k for k in ("axes", "antialias") if a.get(k)]
        if a.get("keep_aspect_ratio_policy", "stretch") != "stretch":
            low.append("keep_aspect_ratio_policy")
        if ctm == "half_pixel_symmetric" and c.opset < 19:
            low.append("half_pixel_symmetric")
        if low:
            problems.append(f"{', '.join(low)} with scales / sizes computed at run time need "
                            "opset >= 18 (19 for half_pixel_symmetric)")
    elif ctm == "half_pixel_symmetric" and c.opset < 19:
        problems.append("half_pixel_symmetric with scales / sizes computed at run time needs "
                        "opset >= 19")
    inputs: dict[str, Any] = {k: list(a[k]) for k in ("scales", "sizes", "roi") if a.get(k)}
    if ctm in _CROPS and c.dynamic("scales"):
        if c.in_shape() is None:
            problems.append(f"{ctm} with run-time scales needs the input shape")
        if ctm == "align_corners":
            a["extrapolation_value"] = 0.0
        a["coordinate_transformation_mode"] = ctm = "tf_crop_and_resize"   # see _crop_inputs
    attrs = {k: v for k, v in a.items() if k in _DEFAULTS or k in ("mode", "axes")}
    if c.opset < 18:
        attrs.pop("antialias", None)
        attrs.pop("keep_aspect_ratio_policy", None)
        attrs.pop("axes", None)
    return _finish(ctm, attrs, inputs), inputs, problems


def check(c) -> list[str]:
    try:
        return _lower(c)[2]
    except ValueError as err:
        return [str(err)]


@emitter("Resize", check=check)
def emit(e) -> None:
    attrs, inputs, _ = _lower(e)

    def value(role: str, make) -> str:
        if e.dynamic(role):
            return e.inputs[e.bound_index(role)]
        return make(inputs[role]) if role in inputs else ""

    if e.attrs.get("coordinate_transformation_mode") in _CROPS and e.dynamic("scales"):
        roi, sizes = _crop_inputs(e, attrs)
        e.final("Resize", [e.x, roi, "", sizes], **attrs)
        return
    roi = value("roi", lambda v: e.const(np.asarray(v, np.float32), hint="roi"))
    scales = value("scales", lambda v: e.const(np.asarray(v, np.float32), hint="scales"))
    sizes = value("sizes", lambda v: e.ints(v, "sizes"))
    if roi and not (attrs.get("coordinate_transformation_mode") == "tf_crop_and_resize"):
        roi = ""
    ins = [e.x, roi, scales] + ([sizes] if sizes else [])
    e.final("Resize", ins, **attrs)


def _crop_inputs(e, attrs: dict[str, Any]) -> tuple[str, str]:
    """``_crop_with_sizes`` computed in the graph from run-time scales (and roi): out =
    floor(in * scale) in double, as the reference; r1' = r0 + (r1 - r0) * (out - 1) /
    max(in * scale - 1, tiny), or r1 where a tf_crop_and_resize output is one element."""
    from onnx import TensorProto

    dbl = TensorProto.DOUBLE
    shape = e.in_shape()
    rank = len(shape)
    axes = norm_axes(attrs.get("axes") or list(range(rank)), rank)
    k = len(axes)
    crop = e.attrs.get("coordinate_transformation_mode") == "tf_crop_and_resize"

    def const(v, hint):
        return e.const(np.asarray(v, np.float64), np.float64, hint)

    n = const([shape[d] for d in axes], "in_len")
    s = e.node("Cast", [e.inputs[e.bound_index("scales")]], {"to": dbl}, dtype=dbl)
    out_f = e.node("Mul", [s, n], dtype=dbl)
    out = e.node("Floor", [out_f], dtype=dbl)
    one = const([1.0], "one")
    if crop and e.dynamic("roi"):
        roi = e.node("Cast", [e.inputs[e.bound_index("roi")]], {"to": dbl}, dtype=dbl)
        r0 = e.node("Slice", [roi, e.ints([0], "r0_from"), e.ints([k], "r0_to")], dtype=dbl)
        r1 = e.node("Slice", [roi, e.ints([k], "r1_from"), e.ints([2 * k], "r1_to")],
                    dtype=dbl)
    else:
        given = list(e.attrs.get("roi") or []) if crop else []
        r0 = const(given[:k] or [0.0] * k, "roi_starts")
        r1 = const(given[k:] or [1.0] * k, "roi_ends")
    den = e.node("Max", [e.node("Sub", [out_f, one], dtype=dbl), const([1e-9], "tiny")],
                 dtype=dbl)
    ratio = e.node("Div", [e.node("Sub", [out, one], dtype=dbl), den], dtype=dbl)
    ends = e.node("Add", [r0, e.node("Mul", [e.node("Sub", [r1, r0], dtype=dbl), ratio],
                                     dtype=dbl)], dtype=dbl)
    if crop:
        single = e.node("Equal", [out_f, one], dtype=TensorProto.BOOL)
        ends = e.node("Where", [single, r1, ends], dtype=dbl)
    roi = e.node("Cast", [e.node("Concat", [r0, ends], {"axis": 0}, dtype=dbl)],
                 {"to": TensorProto.FLOAT})
    sizes = e.node("Cast", [out], {"to": TensorProto.INT64}, dtype=TensorProto.INT64)
    return roi, sizes
