"""LRN -> ``lrn_across_channels`` / ``lrn_within_channel``: Keras has no LRN layer, so model.py
composes it exactly from keras.ops (squares, zero padding, an average pool, a power)."""

from nnrosetta_backend_tf.codegen import fmt_float
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.emitters._common import cl_input


def check(c) -> list[str]:
    shape = c.in_shape()
    region = c.attr("region", "across")
    if shape is not None and not 3 <= len(shape) <= (4 if region == "across" else 5):
        return [f"LRN {region} of a rank-{len(shape)} input: Keras pools 1 to 3 axes"]
    return []


@emitter("LRN", check=check)
def emit(e) -> None:
    """LRN -> model.py's ``lrn_across_channels`` / ``lrn_within_channel`` (keras.ops, exact)."""
    x, lay = cl_input(e)
    fn = "lrn_within_channel" if e.attr("region", "across") == "within" \
        else "lrn_across_channels"
    e.helper(fn)
    args = [str(int(e.attr("size"))), fmt_float(e.attr("alpha", 1e-4)),
            fmt_float(e.attr("beta", 0.75)), fmt_float(e.attr("bias", 1.0))]
    e.assign(f"{fn}({x}, {', '.join(args)})", lay)
