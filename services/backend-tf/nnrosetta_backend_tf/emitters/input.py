"""Input -> ``keras.Input`` (written by codegen itself: the layout of an input is decided by
what reads it; a channels-last input is fed transposed)."""

from nnrosetta_backend_tf.emitters import emitter


@emitter("Input")
def emit(e) -> None:   # pragma: no cover - codegen writes the inputs (CodeGen._input)
    """Input -> ``keras.Input`` (channels-last when a spatial op reads it)."""
    raise AssertionError("inputs are written by codegen")
