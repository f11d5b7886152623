"""Dense -> IR FullyConnected (a 1x1 Conv when the input is held channels-first), then the
layer's activation."""

from __future__ import annotations

import numpy as np

from nnrosetta_frontend_tf import compat
from nnrosetta_frontend_tf.layers._base import LayerIssue, Out, OutVal, Tensor, layer
from nnrosetta_frontend_tf.layers.activations import IR_OPS as ACT_OPS
from nnrosetta_frontend_tf.layers.activations import with_activation
from nnrosetta_frontend_tf.layers.conv import _var


@layer("Dense", ir_ops=["FullyConnected", "Conv", *ACT_OPS])
def dense(call, ctx) -> Out:
    """keras.layers.Dense(units, activation, use_bias): on the last axis of any rank"""
    kvar = _var(call, "kernel")
    fin, fout = (int(d) for d in kvar.shape)
    x = ctx.raw(0)
    features = None
    if x.rank == 2 and x.features is not None:
        features = x.features           # a folded Flatten: permute the weight rows
    else:
        x = ctx.input(0)
    weights = {}
    if x.rank >= 3 and x.perm is not None and x.ir_axis(-1) == 1 and x.rank <= 5:
        # channels-first: Dense on the channels is a 1x1 convolution
        n = x.rank - 2
        node = ctx.node(call, "Conv", [x.ref], kernel_shape=[1] * n)
        weights[f"{node.name}.weight"] = Tensor(
            (fout, fin, *([1] * n)),
            lambda: compat.to_numpy(kvar).T.reshape(fout, fin, *([1] * n)))
    else:
        if x.rank >= 3 and x.ir_axis(-1) != x.rank - 1:
            x = ctx.source_layout(x)
        if x.shape[-1] != fin:
            raise LayerIssue("BAD_SHAPE", f"{call.label}: kernel for {fin} input features, "
                             f"the input has {x.shape[-1]}")
        node = ctx.node(call, "FullyConnected", [x.ref], axis=x.rank - 1)
        if features is None:
            load = lambda: compat.to_numpy(kvar).T  # noqa: E731
        else:
            load = lambda f=features: np.take(compat.to_numpy(kvar), f, axis=0).T  # noqa: E731
        weights[f"{node.name}.weight"] = Tensor((fout, fin), load)
    if call.cfg("use_bias", True):
        b = _var(call, "bias")
        weights[f"{node.name}.bias"] = Tensor((fout,), lambda: compat.to_numpy(b).reshape(-1))
    nodes, ref = with_activation(ctx, call, [node], node.name, x.rank, x.ir_axis(-1))
    return Out(nodes, weights, [OutVal(ref, x.perm)])
