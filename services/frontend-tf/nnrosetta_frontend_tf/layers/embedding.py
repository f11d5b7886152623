"""Embedding -> IR Gather of the embedding matrix (a Constant) by the integer indices."""

from __future__ import annotations

from nnrosetta_frontend_tf import compat
from nnrosetta_frontend_tf.layers._base import (
    LayerIssue,
    Out,
    OutVal,
    Tensor,
    Unsupported,
    layer,
)


def mask_readers(ctx) -> list[str]:
    """Names of the layer calls of the model that receive a Keras mask (Keras 3: a ``mask``
    argument in the graph; Keras 2: an input carrying ``_keras_mask`` into a layer whose
    call takes a mask)."""
    names = []
    for c in ctx.walk.calls:
        if hasattr(c.kwargs.get("mask"), "_keras_history"):
            names.append(c.name)
            continue
        if getattr(c.layer, "_expects_mask_arg", False):
            args = c.args[0] if c.args and isinstance(c.args[0], (list, tuple)) else c.args
            if any(getattr(a, "_keras_mask", None) is not None for a in args):
                names.append(c.name)
    return names


def _dtype(t) -> str:
    dt = getattr(t, "dtype", "float32")
    return str(getattr(dt, "name", dt))


@layer("Embedding", ir_ops=["Constant", "Gather", "Cast"])
def embedding(call, ctx) -> Out:
    """keras.layers.Embedding(input_dim, output_dim): Gather of the matrix by the (integer)
    indices; mask_zero=True only when no layer reads the mask"""
    if call.cfg("mask_zero", False):
        readers = mask_readers(ctx)
        if readers:
            raise Unsupported(f"{call.label}: mask_zero=True and layers {readers} read the "
                              "mask; masked time steps cannot be expressed in the IR")
    if call.cfg("lora_rank"):
        raise Unsupported(f"{call.label}: LoRA (lora_rank={call.cfg('lora_rank')}); merge "
                          "the LoRA weights into the embeddings first")
    var = compat.weight(call.layer, "embeddings", "_embeddings")
    if var is None:
        raise LayerIssue("MISSING_WEIGHT", f"{call.label} has no embeddings weight")
    dt = _dtype(var)
    if "float" not in dt:
        raise Unsupported(f"{call.label}: embeddings of dtype {dt} (a quantized layer); only "
                          "float weights can be converted")
    shape = tuple(int(d) for d in var.shape)
    if len(shape) != 2:
        raise LayerIssue("BAD_SHAPE", f"{call.label}: embeddings of shape {list(shape)}")
    x = ctx.source_layout(0)
    nodes = []
    idx = x.ref
    src = call.args[0] if call.args else None
    if "int" not in _dtype(src):        # Keras casts other indices to int32
        cast = ctx.node(call, "Cast", [x.ref], "indices", to="int64")
        nodes.append(cast)
        idx = cast.name
    table = ctx.node(call, "Constant", [], "embeddings")
    gather = ctx.node(call, "Gather", [table.name, idx], axis=0)
    nodes += [table, gather]
    weights = {f"{table.name}.value": Tensor(shape, lambda: compat.to_numpy(var))}
    return Out(nodes, weights, [OutVal(gather.name, None)])
