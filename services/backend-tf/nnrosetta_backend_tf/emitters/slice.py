"""Slice -> Python slicing of the Keras value (``x[:, 1:3]``) on the Keras axes holding the IR
axes; Split -> ``ops.split``."""

import numpy as np

from nnrosetta_backend_tf.codegen import Code
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.layout import identity

INT_MAX = 2**62


def _bound(v: int) -> str:
    return "" if abs(v) >= INT_MAX else str(v)


@emitter("Slice")
def slice_(e) -> None:
    """Slice -> Python slicing ``x[:, a:b]`` on the Keras axes."""
    rank = e.rank()
    lay = e.layout()
    if not lay.plain:
        lay = identity(rank)
    x = e.arg(0, lay)
    starts, ends = e.attr("starts"), e.attr("ends")
    axes = [int(a) % rank for a in e.attr("axes", []) or range(len(starts))]
    steps = e.attr("steps", []) or [1] * len(starts)
    parts = [":"] * rank
    for a, s, en, st in zip(axes, starts, ends, steps, strict=True):
        text = f"{_bound(int(s))}:{_bound(int(en))}"
        if int(st) != 1:
            text += f":{int(st)}"
        parts[lay.keras_axis(a)] = text
    while len(parts) > 1 and parts[-1] == ":":
        parts.pop()
    e.assign(f"{x}[{', '.join(parts)}]", lay)


@emitter("Split")
def split(e) -> None:
    """Split -> ``ops.split``."""
    rank = e.rank()
    lay = e.layout()
    if not lay.plain:
        lay = identity(rank)
    x = e.arg(0, lay)
    sizes = [int(s) for s in e.attr("split")]
    cuts = [int(v) for v in np.cumsum(sizes)[:-1]]
    parts = e.temp(e.op("split", Code(x), cuts, axis=lay.keras_axis(int(e.attr("axis", 1)))),
                   "parts")
    for i in range(len(sizes)):
        e.assign(f"{parts}[{i}]", lay, i=i)
