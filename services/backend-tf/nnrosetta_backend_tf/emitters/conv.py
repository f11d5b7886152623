"""Conv -> Conv1D/2D/3D (``groups`` for grouped convolution) or DepthwiseConv1D/2D.

Weights: IR ``[O, I/group, *k]`` -> Keras ``(*k, I/group, O)``; depthwise
``(*k, C, multiplier)``. Pads are ``padding="same"`` when TensorFlow's rule gives the IR's
pads for this input size, else an explicit ``ZeroPaddingND`` (any asymmetric pads)."""

from nnrosetta.ir.ops._spatial import conv_issues
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.emitters._common import (
    cl_input,
    is_same,
    one_or_tuple,
    spatial_geometry,
    zero_padding,
)


def check(c) -> list[str]:
    out = conv_issues(c, "Conv", "[O, I/group, *kernel]")
    if out:
        return out
    n, _, s, d, _, _ = spatial_geometry(c)
    if any(v != 1 for v in s) and any(v != 1 for v in d):
        out.append(f"strides={s} with dilations={d}: Keras convolutions take one or the other")
    group = int(c.attr("group", 1))
    w = c.weight_shape("weight")
    if group > 1 and n == 3 and w is not None and not (w[1] == 1 and w[0] == group):
        out.append("grouped 3-D convolution: TensorFlow has no CPU kernel for it")
    return out


def depthwise(c) -> bool:
    """group == input channels (each channel convolved alone, O = C * multiplier), 1-D/2-D."""
    w = c.weight_shape("weight")
    group = int(c.attr("group", 1))
    return group > 1 and w is not None and w[1] == 1 and w[0] % group == 0 \
        and len(w) in (3, 4)


@emitter("Conv", check=check)
def emit(e) -> None:
    """Conv -> ``layers.Conv1D/2D/3D`` (``groups``) or ``DepthwiseConv1D/2D``; pads as "same" or
    ``ZeroPaddingND``."""
    w = e.weight("weight")
    b = e.weight("bias")
    n, k, s, d, begin, end = spatial_geometry(e)
    group = int(e.attr("group", 1))
    x, lay = cl_input(e)
    shape = e.in_shape()
    kwargs = {}
    if any(v != 1 for v in s):
        kwargs["strides"] = one_or_tuple(s)
    if any(begin) or any(end):
        if shape is not None and is_same(shape[2:], k, s, d, begin, end):
            kwargs["padding"] = "same"
        else:
            x = zero_padding(e, x, begin, end)
    if any(v != 1 for v in d):
        kwargs["dilation_rate"] = one_or_tuple(d)
    if b is None:
        kwargs["use_bias"] = False
    spatial = tuple(range(2, 2 + n))
    if depthwise(e):
        mult = w.shape[0] // group
        kernel = w.reshape(group, mult, *k).transpose(*spatial, 0, 1)
        if mult != 1:
            kwargs = {"depth_multiplier": mult, **kwargs}
        weights = [kernel] if b is None else [kernel, b]
        layer = e.layer(f"layers.DepthwiseConv{n}D", one_or_tuple(k), **kwargs, weights=weights)
    else:
        kernel = w.transpose(*spatial, 1, 0)
        if group != 1:
            kwargs["groups"] = group
        weights = [kernel] if b is None else [kernel, b]
        layer = e.layer(f"layers.Conv{n}D", int(w.shape[0]), one_or_tuple(k), **kwargs,
                        weights=weights)
    e.assign(f"{layer}({x})", lay)
