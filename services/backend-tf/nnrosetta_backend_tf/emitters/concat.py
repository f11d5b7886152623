"""Concat -> ``layers.Concatenate`` on the Keras axis that holds the IR axis (axis 1 of a
channels-last value is the last axis)."""

from nnrosetta_backend_tf.codegen import Code
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.layout import identity


@emitter("Concat")
def emit(e) -> None:
    """Concat -> ``layers.Concatenate`` on the Keras axis of the IR axis."""
    n = len(e.node.inputs)
    rank = e.rank(0)
    acts = [i for i in range(n) if not e.const_input(i)]
    lay = e.layout(acts[0]) if acts else identity(rank)
    if not lay.plain:
        lay = identity(rank)
    args = [e.arg(i, lay) for i in range(n)]
    axis = lay.keras_axis(int(e.attr("axis", 1)))
    if axis == 0:
        e.assign(e.op("concatenate", [Code(a) for a in args], axis=0), lay)
        return
    layer = e.layer("layers.Concatenate", axis=-1 if axis == rank - 1 else axis)
    e.assign(f"{layer}([{', '.join(args)}])", lay)
