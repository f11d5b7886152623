"""Flatten, Reshape, Squeeze, Unsqueeze: row-major reshapes of the IR value.

A channels-last value is reshaped as is when its element order is the IR's (only size-1 axes
differ, e.g. [N, C, 1, 1] after a global pool). Otherwise flattening it for Dense layers keeps
Keras' (H, W, C) order and the Dense layers permute their weight rows (dense.py); any other
reshape first transposes it back to the IR's layout (a ``Permute``: there the layout matters).
"""

from nnrosetta_backend_tf.codegen import Code, NodeView
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.emitters.dense import takes_flat_order
from nnrosetta_backend_tf.layout import (
    Layout,
    channels_last,
    conversion,
    drop_axes,
    flatten_order,
    identity,
    moves_only_ones,
)


def check_shapes(c: NodeView) -> list[str]:
    if c.in_shape() is None or c.out_shape() is None:
        return ["the shapes are unknown (shape inference failed)"]
    return []


def ir_ordered(e, i: int = 0) -> str:
    """Input i with its elements in the IR's row-major order (as it is when only size-1 axes
    are out of place; else transposed to the IR's layout)."""
    lay, shape = e.layout(i), e.in_shape(i)
    ident = identity(len(shape))
    if lay.plain and moves_only_ones(conversion(lay, ident), lay.keras_shape(shape)):
        return e.arg(i)
    return e.arg(i, ident)


def reshape_to(e, x: str, out_shape, layout: Layout) -> None:
    """Reshape x (elements in IR order) to ``out_shape`` laid out as ``layout`` (which moves
    only size-1 axes, so the element order stays)."""
    kshape = layout.keras_shape(out_shape)
    if e.in_shape()[0] == out_shape[0]:
        e.assign(f"{e.layer('layers.Reshape', tuple(kshape[1:]))}({x})", layout)
    else:
        e.comment("the batch dimension changes: reshaped with the fixed batch size")
        e.assign(e.op("reshape", Code(x), tuple(kshape)), layout)


def _out_layout(e, out_shape) -> Layout:
    """Channels-last when the result feeds spatial ops and that is still a reshape."""
    rank = len(out_shape)
    cl = channels_last(rank)
    if rank >= 3 and e.wants_channels_last() and \
            moves_only_ones(conversion(identity(rank), cl), out_shape):
        return cl
    return identity(rank)


# Elementwise ops of one input: they keep whatever layout their input has, feature order too.
ORDER_TRANSPARENT = {"Dropout", "Identity", "Relu", "LeakyRelu", "Elu", "Sigmoid", "Tanh",
                     "Gelu", "Swish", "HardSwish", "HardSigmoid", "Clip", "Selu", "Softplus",
                     "Softsign", "Mish", "Abs", "Neg", "Exp", "Log", "Sqrt", "Erf", "Power",
                     "ThresholdedRelu"}


def _flat_order_ok(e, ref: str | None = None) -> bool:
    """Whether every reader of ``ref`` (default: this node's output) is a Dense that can take
    flattened channels-last features, directly or through elementwise ops (fc6 after a
    Dropout), and no graph output is among them."""
    ref = ref or e.name
    readers = e._gen.consumers.get(ref, [])
    if not readers or ref in e._gen.output_set:
        return False
    for node, k in readers:
        if node.op in ORDER_TRANSPARENT and len(node.inputs) == 1:
            if not _flat_order_ok(e, node.name):
                return False
        elif not takes_flat_order(node, k, e.nodes):
            return False
    return True


def flatten_all(e) -> None:
    """[N, d1, .., dk] -> [N, d1 * .. * dk]."""
    lay, shape = e.layout(), e.in_shape()
    order = flatten_order(lay, shape, 1) if lay.plain else None
    if lay.plain and order is not None and _flat_order_ok(e):
        e.comment(f"flattened as Keras holds it ({lay.describe()}): the Dense layers reading "
                  "it take their weight rows in that order")
        key = f"flatten{tuple(shape)}{lay.perm}"
        e.assign(f"{e.layer('layers.Flatten')}({e.arg(0)})", Layout((0, 1), order, key))
        return
    x = ir_ordered(e)
    e.assign(f"{e.layer('layers.Flatten')}({x})", identity(2))


@emitter("Flatten", check=check_shapes)
def flatten(e) -> None:
    """Flatten -> ``layers.Flatten`` (Keras' order when only Dense layers read it) or
    ``layers.Reshape``."""
    rank = e.rank()
    axis = int(e.attr("axis", 1)) % rank
    end = int(e.attr("end_axis", -1)) % rank
    if axis == 1 and end == rank - 1 and rank > 2:
        flatten_all(e)
        return
    out_shape = e.out_shape()
    reshape_to(e, ir_ordered(e), out_shape, _out_layout(e, out_shape))


@emitter("Reshape", "Unsqueeze", check=check_shapes)
def reshape(e) -> None:
    """Reshape, Unsqueeze -> ``layers.Reshape`` (``Permute`` first when the IR's order matters)."""
    in_shape, out_shape = e.in_shape(), e.out_shape()
    if len(out_shape) == 2 and len(in_shape) > 2 and out_shape[0] == in_shape[0]:
        flatten_all(e)
        return
    reshape_to(e, ir_ordered(e), out_shape, _out_layout(e, out_shape))


@emitter("Squeeze", check=check_shapes)
def squeeze(e) -> None:
    """Squeeze -> ``layers.Reshape`` (the remaining axes keep their layout)."""
    in_shape = e.in_shape()
    axes = [int(a) % len(in_shape) for a in e.attr("axes", []) or []] or \
        [a for a, d in enumerate(in_shape) if d == 1]
    lay = e.layout()
    if not lay.plain:
        lay = identity(len(in_shape))
    x = e.arg(0, lay)
    out = drop_axes(lay, axes)
    out_shape = [int(d) for a, d in enumerate(in_shape) if a not in axes]
    if 0 in axes:
        keras_axes = tuple(lay.keras_axis(a) for a in axes)
        e.assign(e.op("squeeze", Code(x), axis=keras_axes), out)
        return
    kshape = out.keras_shape(out_shape)
    e.assign(f"{e.layer('layers.Reshape', tuple(kshape[1:]))}({x})", out)
