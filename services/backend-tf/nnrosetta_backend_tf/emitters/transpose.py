"""Transpose: usually no code at all. The Keras value stays as it is and only its layout
changes (the IR axes it holds are relabelled), so NCHW -> NHWC of a channels-last value is
free. A permutation that moves the batch axis is an ``ops.transpose``."""

import numpy as np

from nnrosetta_backend_tf.codegen import Code
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.layout import Layout, identity


@emitter("Transpose")
def emit(e) -> None:
    """Transpose -> nothing (the layout is relabelled), or ``ops.transpose`` if the batch moves."""
    rank = e.rank()
    perm = [int(p) % rank for p in e.attr("perm", []) or []] or list(range(rank))[::-1]
    lay = e.layout()
    if not lay.plain:
        lay = identity(rank)
    inv = np.argsort(perm)
    relabelled = tuple(int(inv[p]) for p in lay.perm)   # output IR axis per Keras axis
    if relabelled[0] == 0:
        out = Layout(relabelled)
        e.comment(f"perm {perm}: no data movement; the Keras value is the output "
                  + ("as the IR lays it out" if out.is_identity
                     else f"transposed by {relabelled} from the IR's layout"))
        e.alias(e.arg(0, lay), Layout(relabelled))
        return
    x = e.arg(0, lay)
    keras_perm = tuple(int(lay.perm.index(p)) for p in perm)
    e.assign(e.op("transpose", Code(x), keras_perm), identity(rank))
