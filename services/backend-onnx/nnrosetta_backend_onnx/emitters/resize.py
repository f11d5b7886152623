"""Resize: roi / scales / sizes as initializers. Opset >= 18 takes the IR attributes as they
are; before 18 axes are expanded to every dim, and antialias (only as a no-op when
upsampling), keep_aspect_ratio_policy and (before 19) half_pixel_symmetric are rewritten where
an equal older form exists, refused otherwise."""

from __future__ import annotations

from typing import Any

import numpy as np

from nnrosetta.ir.ops.resize import plan
from nnrosetta_backend_onnx.emitters import emitter

_DEFAULTS = {"coordinate_transformation_mode": "half_pixel", "nearest_mode": "round_prefer_floor",
             "cubic_coeff_a": -0.75, "exclude_outside": False, "extrapolation_value": 0.0,
             "antialias": False, "keep_aspect_ratio_policy": "stretch"}


def _lower(c) -> tuple[dict[str, Any], dict[str, list], list[str]]:
    """(ONNX attributes, {"roi"/"scales"/"sizes": values}, problems) at c.opset."""
    a = dict(c.attrs)
    ctm = a.get("coordinate_transformation_mode", "half_pixel")
    problems: list[str] = []
    if c.opset < 13:
        return {}, {}, ["Resize is written at opset >= 13"]
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
    if ctm != "tf_crop_and_resize":
        inputs.pop("roi", None)
        attrs.pop("extrapolation_value", None)
    attrs = {k: v for k, v in attrs.items() if v != _DEFAULTS.get(k, object()) and v != []}
    for k in ("exclude_outside", "antialias"):
        if k in attrs:
            attrs[k] = int(attrs[k])
    return attrs, inputs, problems


def check(c) -> list[str]:
    try:
        return _lower(c)[2]
    except ValueError as err:
        return [str(err)]


@emitter("Resize", check=check)
def emit(e) -> None:
    attrs, inputs, _ = _lower(e)
    roi = e.const(np.asarray(inputs["roi"], np.float32), hint="roi") if "roi" in inputs else ""
    scales = e.const(np.asarray(inputs["scales"], np.float32), hint="scales") \
        if "scales" in inputs else ""
    sizes = e.ints(inputs["sizes"], "sizes") if "sizes" in inputs else ""
    ins = [e.x, roi, scales] + ([sizes] if sizes else [])
    e.final("Resize", ins, **attrs)
