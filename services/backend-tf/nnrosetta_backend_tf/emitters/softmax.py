"""Softmax -> ``layers.Softmax`` on the Keras axis holding the IR axis; LogSoftmax ->
``ops.log_softmax``."""

from nnrosetta_backend_tf.codegen import Code
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.layout import identity


def _axis(e):
    lay = e.layout()
    if not lay.plain:
        lay = identity(e.rank())
    axis = lay.keras_axis(int(e.attr("axis", 1)))
    return e.arg(0, lay), lay, (-1 if axis == lay.rank - 1 else axis)


@emitter("Softmax")
def softmax(e) -> None:
    """Softmax -> ``layers.Softmax(axis)`` on the Keras axis of the IR axis."""
    x, lay, axis = _axis(e)
    e.assign(f"{e.layer('layers.Softmax', axis=axis)}({x})", lay)


@emitter("LogSoftmax")
def log_softmax(e) -> None:
    """LogSoftmax -> ``ops.log_softmax``."""
    x, lay, axis = _axis(e)
    e.assign(e.op("log_softmax", Code(x), axis=axis), lay)
