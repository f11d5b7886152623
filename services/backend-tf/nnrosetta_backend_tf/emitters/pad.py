"""Pad -> ``layers.ZeroPaddingND`` (zeros on the spatial axes of a channels-last value), else
``ops.pad`` (constant, reflect) with the pads of each IR axis moved to its Keras axis."""

from nnrosetta_backend_tf.codegen import Code
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.layout import channels_last, identity

MODES = {"constant": "constant", "reflect": "reflect"}


def check(c) -> list[str]:
    out = []
    mode = c.attr("mode", "constant")
    if mode not in MODES:
        out.append(f"mode {mode!r}: TensorFlow pads with constant or reflect only")
    pads = [int(p) for p in c.attr("pads") or []]
    if any(p < 0 for p in pads):
        out.append(f"pads={pads}: negative pads (cropping) are not supported")
    shape = c.in_shape()
    if shape is not None and len(pads) != 2 * len(shape):
        out.append(f"pads={pads}: needs {2 * len(shape)} values")
    return out


@emitter("Pad", check=check)
def emit(e) -> None:
    """Pad -> ``layers.ZeroPaddingND`` (zeros, spatial axes), else ``ops.pad`` (constant, reflect)
    on the Keras axes."""
    rank = e.rank()
    pads = [int(p) for p in e.attr("pads")]
    begin, end = pads[:rank], pads[rank:]
    mode = e.attr("mode", "constant")
    value = float(e.attr("value", 0.0))
    lay = e.layout()
    if not lay.plain:
        lay = identity(rank)
    spatial_only = not any(begin[:2] + end[:2])
    if mode == "constant" and value == 0.0 and spatial_only and 3 <= rank <= 5:
        lay = channels_last(rank)
        x = e.arg(0, lay)
        n = rank - 2
        arg = (begin[2], end[2]) if n == 1 else tuple((begin[a], end[a]) for a in range(2, rank))
        layer = e.layer(f"layers.ZeroPadding{n}D", arg)
        e.assign(f"{layer}({x})", lay)
        return
    x = e.arg(0, lay)
    spec = [[begin[p], end[p]] for p in lay.perm]
    kwargs = {"mode": MODES[mode]}
    if mode == "constant" and value != 0.0:
        kwargs["constant_values"] = value
    e.assign(e.op("pad", Code(x), spec, **kwargs), lay)


