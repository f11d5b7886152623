"""ConvTranspose -> Conv1DTranspose/2DTranspose/3DTranspose.

Keras' transposed convolution with ``padding="valid"`` and an explicit ``output_padding``
gives the full result, ``(in - 1) * stride + (k - 1) * dilation + 1 + output_padding``; the
IR's pads then crop it (``CroppingND``). Weights: IR ``[I, O/group, *k]`` -> Keras
``(*k, O/group, I/group)``. Keras has no grouped transposed convolution: with ``group > 1``
the input is split into the groups, each has its own layer (``<node>_g0``, ...), and the
results are concatenated."""

import numpy as np

from nnrosetta.ir.ops._spatial import conv_issues
from nnrosetta_backend_tf.codegen import Code
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.emitters._common import cl_input, one_or_tuple, spatial_geometry

MAX_GROUPS = 64   # one layer per group: beyond this the code would not be readable


def check(c) -> list[str]:
    out = conv_issues(c, "ConvTranspose", "[I, O/group, *kernel]", ("output_padding",))
    if out:
        return out
    n, _, s, d, _, end = spatial_geometry(c)
    group = int(c.attr("group", 1))
    if group > MAX_GROUPS:
        out.append(f"group={group}: Keras has no grouped transposed convolution (one layer "
                   f"per group is written up to {MAX_GROUPS} groups)")
    if any(v != 1 for v in s) and any(v != 1 for v in d):
        out.append(f"strides={s} with dilations={d}: Keras takes one or the other")
    op = [int(v) for v in c.attr("output_padding") or [0] * n]
    if any(op[a] - end[a] >= s[a] for a in range(n)):
        out.append(f"output_padding={op} beyond the end pads must be smaller than the stride")
    return out


@emitter("ConvTranspose", check=check)
def emit(e) -> None:
    """ConvTranspose -> ``layers.Conv1D/2D/3DTranspose`` (one per group) and ``CroppingND`` for
    pads."""
    w = e.weight("weight")
    b = e.weight("bias")
    n, k, s, d, begin, end = spatial_geometry(e)
    group = int(e.attr("group", 1))
    op = [int(v) for v in e.attr("output_padding") or [0] * n]
    x, lay = cl_input(e)
    extra = [max(op[a] - end[a], 0) for a in range(n)]      # Keras' output_padding
    crop_end = [max(end[a] - op[a], 0) for a in range(n)]
    kwargs = {}
    if any(v != 1 for v in s):
        kwargs["strides"] = one_or_tuple(s)
    kwargs["output_padding"] = one_or_tuple(extra)
    if any(v != 1 for v in d):
        kwargs["dilation_rate"] = one_or_tuple(d)
    if b is None:
        kwargs["use_bias"] = False
    kernel = w.transpose(*range(2, 2 + n), 1, 0)          # (*k, O/group, I)
    cls = f"layers.Conv{n}DTranspose"
    cropped = any(begin) or any(crop_end)
    if group == 1:
        layer = e.layer(cls, int(w.shape[1]), one_or_tuple(k), **kwargs,
                        weights=[kernel] if b is None else [kernel, b])
        if not cropped:
            e.assign(f"{layer}({x})", lay)
            return
        full = e.temp(f"{layer}({x})", "full")
    else:
        e.comment(f"{group} groups: Keras has no grouped transposed convolution, so each "
                  "group of channels has its own layer")
        parts = e.temp(e.op("split", Code(x), group, axis=-1), "groups")
        cin, cout = w.shape[0] // group, w.shape[1]
        outs = []
        for j in range(group):
            kj = np.ascontiguousarray(kernel[..., j * cin:(j + 1) * cin])
            weights = [kj] if b is None else [kj, b[j * cout:(j + 1) * cout]]
            outs.append(e.temp_layer(cls, f"{parts}[{j}]", int(cout), one_or_tuple(k),
                                     suffix=f"g{j}", **kwargs, weights=weights))
        layer = e.layer("layers.Concatenate", axis=-1)
        if not cropped:
            e.assign(f"{layer}([{', '.join(outs)}])", lay)
            return
        full = e.temp(f"{layer}([{', '.join(outs)}])", "full")
    e.comment(f"the IR's pads {list(begin) + list(end)} crop the full result")
    arg = (begin[0], crop_end[0]) if n == 1 else \
        tuple((begin[a], crop_end[a]) for a in range(n))
    crop = e.layer(f"layers.Cropping{n}D", arg, suffix="crop")
    e.assign(f"{crop}({full})", lay)
