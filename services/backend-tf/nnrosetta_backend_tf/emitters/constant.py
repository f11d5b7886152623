"""Constant: emitted where it is read, laid out as the reader needs (codegen's ``value``); a
Constant that is itself returned or fetched becomes a ``Constant`` layer (model.py)."""

from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.layout import identity


@emitter("Constant")
def emit(e) -> None:
    """Constant -> a literal, or the ``Constant`` layer of model.py, laid out for its reader."""
    value = e._gen.constant_value(e.node)
    var = e.constant(value, "value")
    e.alias(var, identity(value.ndim))
