"""Gather of a stored matrix's rows (what frontends make of an embedding layer) ->
``layers.Embedding``; other Gathers are refused."""

import numpy as np

from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.layout import Layout, identity


def check_gather(c) -> list[str]:
    data = c.producer(0)
    shape = c.in_shape(0)
    if data is None or data.op != "Constant" or shape is None or len(shape) != 2 or \
            int(c.attr("axis", 0)) % 2 != 0:
        return ["only the embedding lookup is supported: a stored 2-D matrix (a Constant) "
                "gathered along axis 0"]
    return []


@emitter("Gather", check=check_gather)
def gather(e) -> None:
    """Gather of a stored matrix's rows -> ``layers.Embedding`` (the indices in [0, rows))."""
    table = e.const_value(0).astype(np.float32)
    lay = e.layout(1)
    if not lay.plain:
        lay = identity(e.rank(1))
    idx = e.arg(1, lay)
    layer = e.layer("layers.Embedding", int(table.shape[0]), int(table.shape[1]),
                    weights=[table])
    e.assign(f"{layer}({idx})", Layout((*lay.perm, len(lay.perm))))
