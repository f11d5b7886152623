"""BatchNorm -> ``layers.BatchNormalization`` on the channel axis (the last one when
channels-last). Caffe's BatchNorm + Scale pair becomes one layer: a Scale (per channel, axis 1)
that is the BatchNorm's only reader gives it its gamma and beta."""

from nnrosetta_backend_tf.emitters import emitter


def check(c) -> list[str]:
    shape = c.in_shape()
    if shape is not None and len(shape) < 2:
        return [f"input of rank {len(shape)}: BatchNorm normalizes axis 1"]
    return []


def _folded_scale(e):
    """The Scale node to fold into this layer, or None."""
    if e.has_weight("scale") or e.has_weight("bias"):
        return None
    readers = e.consumers(0)
    if len(readers) != 1:
        return None
    node, _ = readers[0]
    if node.op != "Scale" or int(node.attrs.get("axis", 1)) != 1 or len(node.inputs) != 1:
        return None
    shape = e.graph.tensors.get(f"{node.name}.scale")
    if shape is None or tuple(shape.shape) != (e.in_shape()[1],) or not e.can_absorb(node):
        return None
    return node


@emitter("BatchNorm", check=check)
def emit(e) -> None:
    """BatchNorm -> ``layers.BatchNormalization`` on the channel axis (a following Caffe Scale
    folded in)."""
    lay = e.layout()
    axis = lay.keras_axis(1)
    x = e.arg(0)
    mean, var = e.weight("mean"), e.weight("var")
    gamma, beta = e.weight("scale"), e.weight("bias")
    out = None
    scale_node = _folded_scale(e)
    if scale_node is not None:
        out = e.absorb(scale_node)
        gamma = e.tensor(f"{scale_node.name}.scale")
        beta = e.tensor(f"{scale_node.name}.bias")
    kwargs = {"axis": axis if axis != lay.rank - 1 else -1,
              "epsilon": float(e.attr("epsilon", 1e-5)),
              "momentum": round(1.0 - float(e.attr("momentum", 0.1)), 6)}
    weights = []
    if gamma is not None:
        weights.append(gamma.reshape(-1))
    else:
        kwargs["scale"] = False
    if beta is not None:
        weights.append(beta.reshape(-1))
    else:
        kwargs["center"] = False
    weights += [mean.reshape(-1), var.reshape(-1)]
    layer = e.layer("layers.BatchNormalization", **kwargs, weights=weights)
    e.assign(f"{layer}({x})", lay, out=out)
