"""Helpers shared by the emitters (not an emitter)."""

from __future__ import annotations

from collections.abc import Sequence

from nnrosetta_backend_tf.codegen import Code
from nnrosetta_backend_tf.layout import Layout, channels_last


def pads_split(pads: Sequence[int], n: int) -> tuple[list[int], list[int]]:
    """IR pads [begin per axis..., end per axis...] -> (begins, ends); [] -> zeros."""
    p = [int(x) for x in pads] or [0] * (2 * n)
    return p[:n], p[n:]


def spatial_geometry(e, n: int | None = None):
    """(n, kernel, strides, dilations, pad_begin, pad_end) with [] defaults filled in."""
    k = [int(v) for v in e.attr("kernel_shape") or []]
    n = n if n is not None else len(k)
    s = [int(v) for v in e.attr("strides") or [1] * n]
    d = [int(v) for v in e.attr("dilations") or [1] * n]
    begin, end = pads_split(e.attr("pads") or [], n)
    return n, k, s, d, begin, end


def same_pads(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TensorFlow's padding="same" for one axis: (before, after)."""
    ext = (k - 1) * d + 1
    out = -(-size // s)
    total = max((out - 1) * s + ext - size, 0)
    return total // 2, total - total // 2


def is_same(in_spatial: Sequence[int], k, s, d, begin, end) -> bool:
    """Whether the IR pads are exactly what padding="same" gives for this input size."""
    return all(same_pads(int(in_spatial[a]), k[a], s[a], d[a]) == (begin[a], end[a])
               for a in range(len(k)))


def one_or_tuple(v: Sequence[int]):
    """[3, 3] -> 3; [3, 5] -> (3, 5): Keras' int-or-tuple arguments."""
    v = [int(x) for x in v]
    return v[0] if all(x == v[0] for x in v) else tuple(v)


def zero_padding(e, x: str, begin: list[int], end: list[int], suffix: str = "pad") -> str:
    """``layers.ZeroPaddingND`` of a channels-last value; returns the padded variable."""
    n = len(begin)
    if n == 1:
        arg = (begin[0], end[0])
    else:
        arg = tuple((begin[a], end[a]) for a in range(n))
    return e.temp_layer(f"layers.ZeroPadding{n}D", x, arg, suffix=suffix)


def cl_input(e, i: int = 0) -> tuple[str, Layout]:
    """Input i channels-last (converted when it is not)."""
    lay = channels_last(e.rank(i))
    return e.arg(i, lay), lay


def var(name: str) -> Code:
    """A variable name as an argument of a generated call."""
    return Code(name)
