"""Kernel / stride / pad / dilation of Convolution and Pooling params, with Caffe's _h/_w
forms."""

from __future__ import annotations

from nnrosetta_frontend_caffe.layers._base import Layer, LayerIssue, Unsupported


def _pair(layer: Layer, what: str, values: list[int], default: int | None) -> list[int]:
    if not values:
        if default is None:
            raise LayerIssue("BAD_PARAM", f"layer {layer.name!r}: {what} is not set")
        return [default, default]
    if len(values) == 1:
        return [int(values[0])] * 2
    if len(values) == 2:
        return [int(v) for v in values]
    raise Unsupported(f"layer {layer.name!r}: {len(values)}-D {what} (only 2-D is supported)")


def _hw(p, layer: Layer, base: str, h: str, w: str, default: int | None,
        repeated: bool) -> list[int]:
    if p.HasField(h) or p.HasField(w):
        if base == "kernel_size" and not (p.HasField(h) and p.HasField(w)):
            raise LayerIssue("BAD_PARAM", f"layer {layer.name!r}: set both {h} and {w}")
        return [int(getattr(p, h)), int(getattr(p, w))]
    if repeated:
        return _pair(layer, base, list(getattr(p, base)), default)
    if p.HasField(base) or default is None:
        if not p.HasField(base):
            raise LayerIssue("BAD_PARAM", f"layer {layer.name!r}: {base} is not set")
        return [int(getattr(p, base))] * 2
    return [default, default]


def conv_geometry(p, layer: Layer) -> dict[str, list[int]]:
    """ConvolutionParameter -> IR kernel_shape, strides, pads, dilations."""
    if p.axis != 1:
        raise Unsupported(f"layer {layer.name!r}: convolution axis {p.axis} (only 1)")
    k = _hw(p, layer, "kernel_size", "kernel_h", "kernel_w", None, True)
    s = _hw(p, layer, "stride", "stride_h", "stride_w", 1, True)
    pad = _hw(p, layer, "pad", "pad_h", "pad_w", 0, True)
    d = _pair(layer, "dilation", list(p.dilation), 1)
    return {"kernel_shape": k, "strides": s, "pads": [pad[0], pad[1], pad[0], pad[1]],
            "dilations": d}


def pool_geometry(p, layer: Layer) -> dict[str, list[int]]:
    k = _hw(p, layer, "kernel_size", "kernel_h", "kernel_w", None, False)
    s = _hw(p, layer, "stride", "stride_h", "stride_w", 1, False)
    pad = _hw(p, layer, "pad", "pad_h", "pad_w", 0, False)
    return {"kernel_shape": k, "strides": s, "pads": [pad[0], pad[1], pad[0], pad[1]]}
