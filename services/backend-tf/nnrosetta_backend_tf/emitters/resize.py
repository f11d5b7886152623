"""Resize of the spatial axes -> ``layers.UpSampling1D/2D/3D`` (integer factors: nearest
repeats each element, bilinear is TensorFlow's half-pixel interpolation) or
``layers.Resizing`` (any size, 2-D).

Nearest: the IR's index mapping (coordinate mode and rounding) is computed with the IR
reference and must be one of these layers' (repeat, or TensorFlow's half-pixel floor); linear:
half_pixel (pytorch_half_pixel) coordinates, as TensorFlow's bilinear resize."""

import numpy as np

from nnrosetta.ir import registry
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.emitters._common import cl_input


def _spatial(c):
    """(in spatial sizes, out spatial sizes), or None when N or C are resized."""
    x, y = c.in_shape(), c.out_shape()
    if x is None or y is None or len(x) < 3 or tuple(x[:2]) != tuple(y[:2]):
        return None
    return [int(d) for d in x[2:]], [int(d) for d in y[2:]]


def _scales_exact(c, ins, outs) -> bool:
    """With ``scales`` the IR maps coordinates by that scale; TensorFlow by out / in."""
    scales = [float(s) for s in c.attr("scales", []) or []]
    if not scales:
        return True
    axes = [int(a) for a in c.attr("axes", []) or []] or list(range(len(scales)))
    rank = len(ins) + 2
    by_axis = {a % rank: s for a, s in zip(axes, scales, strict=False)}
    return all(np.float32(by_axis.get(a + 2, 1.0)) == np.float32(outs[a] / ins[a])
               for a in range(len(ins)))


def nearest_source(c, ins, outs) -> list[np.ndarray]:
    """Per spatial axis, the input index each output index reads (IR reference)."""
    attrs = dict(c.attrs)
    rank = len(ins) + 2
    axes = [int(a) % rank for a in attrs.get("axes", []) or []]
    if attrs.get("sizes"):
        sizes = dict(zip(axes or range(rank), attrs["sizes"], strict=False))
        attrs["sizes"] = [1, 1] + [int(sizes.get(a, ins[a - 2])) for a in range(2, rank)]
    if attrs.get("scales"):
        scales = dict(zip(axes or range(rank), attrs["scales"], strict=False))
        attrs["scales"] = [1.0, 1.0] + [float(scales.get(a, 1.0)) for a in range(2, rank)]
    attrs["axes"] = []
    out = []
    for a in range(len(ins)):
        shape = [1, 1] + [1] * len(ins)
        shape[2 + a] = ins[a]
        probe = np.broadcast_to(np.arange(ins[a], dtype=np.float32).reshape(shape),
                                [1, 1, *ins]).copy()
        y = registry.get("Resize").reference_fn(attrs, [probe], {})[0]
        index = [0, 0] + [0] * len(ins)
        index[2 + a] = slice(None)
        out.append(np.asarray(y[tuple(index)]).astype(np.int64))
    return out


def _plan(c):
    """("upsampling", factors) | ("resizing", sizes) | (None, problem)."""
    mode = c.attr("mode", "nearest")
    if mode not in ("nearest", "linear"):
        return None, f"mode {mode!r}: Keras resizes nearest or bilinear"
    sp = _spatial(c)
    if sp is None:
        return None, "only the spatial axes may be resized (N and C stay), of known shapes"
    ins, outs = sp
    n = len(ins)
    integer = all(o % i == 0 for i, o in zip(ins, outs, strict=True))
    factors = [o // i for i, o in zip(ins, outs, strict=True)]
    if mode == "nearest":
        src = nearest_source(c, ins, outs)
        if integer and all(np.array_equal(s, np.arange(o) // f)
                           for s, o, f in zip(src, outs, factors, strict=True)):
            return "upsampling", factors
        tf_src = [np.minimum(np.floor((np.arange(o) + 0.5) * (i / o)).astype(np.int64), i - 1)
                  for i, o in zip(ins, outs, strict=True)]
        if n == 2 and all(np.array_equal(s, t) for s, t in zip(src, tf_src, strict=True)):
            return "resizing", outs
        return None, ("nearest with this coordinate mode / rounding maps indices unlike Keras' "
                      "UpSampling (repeat) and Resizing (half-pixel floor)")
    if mode == "linear":
        ctm = c.attr("coordinate_transformation_mode", "half_pixel")
        ok = ctm == "half_pixel" or (ctm == "pytorch_half_pixel" and min(outs) > 1)
        if not ok or c.attr("antialias", False):
            return None, (f"linear with coordinate_transformation_mode={ctm!r}"
                          f"{' and antialias' if c.attr('antialias', False) else ''}: "
                          "TensorFlow's bilinear resize is half_pixel without antialiasing")
        if n != 2:
            return None, "linear resize of 1-D or 3-D data: Keras resizes images (2-D)"
        if not _scales_exact(c, ins, outs):
            return None, "scales that are not out / in exactly (TensorFlow maps by out / in)"
    return ("upsampling", factors) if integer else ("resizing", outs)


def check(c) -> list[str]:
    kind, detail = _plan(c)
    return [detail] if kind is None else []


@emitter("Resize", check=check)
def emit(e) -> None:
    """Resize -> ``layers.UpSamplingND`` (integer factors) or ``layers.Resizing``; nearest,
    bilinear."""
    kind, detail = _plan(e)
    x, lay = cl_input(e)
    n = e.rank() - 2
    interp = "bilinear" if e.attr("mode", "nearest") == "linear" else "nearest"
    if kind == "upsampling":
        size = detail[0] if n == 1 else tuple(detail)
        kwargs = {"interpolation": interp} if n == 2 and interp != "nearest" else {}
        layer = e.layer(f"layers.UpSampling{n}D", size, **kwargs)
    else:
        layer = e.layer("layers.Resizing", detail[0], detail[1], interpolation=interp)
    e.assign(f"{layer}({x})", lay)
