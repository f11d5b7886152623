"""Resize (opsets 10 .. 19): constant roi, scales and sizes become attributes; ones computed
at run time are bound to the IR node's inputs (its resized dims are then known only at run
time, so the output may only be a graph output).

Opset 10 is Upsample's behaviour (asymmetric coordinates, nearest rounds down); opset 11 adds
the coordinate modes, roi and sizes; 13 makes roi / scales optional; 18 adds axes, antialias
and keep_aspect_ratio_policy; 19 half_pixel_symmetric."""

import numpy as np

from nnrosetta_frontend_onnx.importers._base import (
    NodeIssue,
    Out,
    Unsupported,
    bind_inputs,
    importer,
    ints,
    node,
)

_MODES = ("nearest", "linear", "cubic")


def _text(v, default: str) -> str:
    if v is None:
        return default
    return v.decode() if isinstance(v, bytes) else str(v)


def _const(onode, ctx, i: int, what: str, bound: dict[str, str]) -> np.ndarray | None:
    """The i-th input as a constant array; None when absent or empty. One computed at run
    time goes to ``bound`` (role -> IR ref) and gives None."""
    name = onode.input(i)
    if not name:
        return None
    if not ctx.is_const(name):
        shape = ctx.shape(name)
        if shape is not None and len(shape) == 1 and shape[0] == 0:
            return None                                   # an empty input: absent
        bound[what] = ctx.ref(name, "int64" if what == "sizes" else "float32")
        return None
    arr = np.asarray(ctx.const(name, what))
    return None if arr.size == 0 else arr


@importer("Resize", since=10, ir_ops=["Resize"])
def resize(onode, ctx) -> Out:
    mode = _text(onode.attr("mode"), "nearest")
    if mode not in _MODES:
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: mode {mode!r}")
    attrs: dict = {"mode": mode}
    bound: dict[str, str] = {}
    if onode.opset < 11:
        scales = _const(onode, ctx, 1, "scales", bound)
        roi = sizes = None
        attrs.update(coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    else:
        roi = _const(onode, ctx, 1, "roi", bound)
        scales = _const(onode, ctx, 2, "scales", bound)
        sizes = _const(onode, ctx, 3, "sizes", bound)
        attrs["coordinate_transformation_mode"] = _text(
            onode.attr("coordinate_transformation_mode"), "half_pixel")
        for key, default in (("nearest_mode", "round_prefer_floor"),
                             ("keep_aspect_ratio_policy", "stretch")):
            if onode.attr(key) is not None:
                attrs[key] = _text(onode.attr(key), default)
        for key in ("cubic_coeff_a", "extrapolation_value"):
            if onode.attr(key) is not None:
                attrs[key] = float(onode.attr(key))
        for key in ("exclude_outside", "antialias"):
            if onode.attr(key) is not None:
                attrs[key] = bool(onode.attr(key))
        if onode.attr("axes") is not None:
            attrs["axes"] = ints(onode.attr("axes"))
    has_scales = scales is not None or "scales" in bound
    if has_scales == (sizes is not None or "sizes" in bound):
        raise Unsupported(f"{onode.label}: exactly one of scales and sizes must be given "
                          f"(has {'both' if has_scales else 'neither'})", "BAD_INPUT")
    if attrs.get("coordinate_transformation_mode") != "tf_crop_and_resize":
        bound.pop("roi", None)                     # roi only matters for tf_crop_and_resize
    if scales is not None:
        attrs["scales"] = [float(v) for v in np.asarray(scales, np.float32).reshape(-1)]
    elif sizes is not None:
        attrs["sizes"] = ints(sizes)
    if roi is not None and attrs["coordinate_transformation_mode"] == "tf_crop_and_resize":
        attrs["roi"] = [float(v) for v in np.asarray(roi, np.float64).reshape(-1)]
    return Out([bind_inputs(node(onode, "Resize", [ctx.ref(onode.input(0))], **attrs), bound)])
