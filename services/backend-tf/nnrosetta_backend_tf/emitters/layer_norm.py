"""LayerNormalization -> ``layers.LayerNormalization`` over the Keras axes that hold the IR's
normalized axes (``axis ..``); gamma and beta laid out in those axes' Keras order."""

import numpy as np

from nnrosetta_backend_tf.emitters import emitter


def check(c) -> list[str]:
    out = []
    if int(c.attr("num_outputs", 1)) != 1:
        out.append("Mean / InvStdDev outputs: Keras' LayerNormalization returns y only")
    shape, s = c.in_shape(), c.weight_shape("scale")
    if shape is not None and s is not None:
        axis = int(c.attr("axis", -1)) % len(shape)
        if int(np.prod(s)) != int(np.prod(shape[axis:])):
            out.append(f"scale {list(s)} does not cover the normalized dims {list(shape[axis:])}")
    return out


@emitter("LayerNormalization", check=check)
def emit(e) -> None:
    """LayerNormalization -> ``layers.LayerNormalization`` over the Keras axes of the IR axes."""
    shape = e.in_shape()
    rank = len(shape)
    axis = int(e.attr("axis", -1)) % rank
    lay = e.layout()
    x = e.arg(0)
    normalized = list(range(axis, rank))
    keras_axes = sorted(lay.keras_axis(a) for a in normalized)
    ir_of = [lay.perm[k] for k in keras_axes]          # IR axis of each parameter axis
    dims = [int(shape[a]) for a in normalized]

    def param(v):
        v = np.broadcast_to(v, dims) if v.size != np.prod(dims) else v.reshape(dims)
        v = np.transpose(v, [a - axis for a in ir_of])
        if lay.order is not None:                       # flattened channels-last features
            v = np.take(v, lay.order, axis=-1)
        return np.ascontiguousarray(v)

    gamma = param(e.weight("scale"))
    b = e.weight("bias")
    weights = [gamma] + ([param(b)] if b is not None else [])
    kwargs = {"axis": keras_axes[0] if len(keras_axes) == 1 else keras_axes,
              "epsilon": float(e.attr("epsilon", 1e-5))}
    if b is None:
        kwargs["center"] = False
    if kwargs["axis"] == rank - 1:
        kwargs["axis"] = -1
    layer = e.layer("layers.LayerNormalization", **kwargs, weights=weights)
    e.assign(f"{layer}({x})", lay)
