"""Keras 2 ``TFOpLambda`` layers (TensorFlow functions called on symbolic tensors in a
functional model: ``x + 1``, ``tf.nn.relu(x)``, ``tf.concat``, ``tf.reshape``,
``tf.reduce_mean``, ...) -> the importers of the equivalent Keras 3 operations (``ops.py``).
The registry key is ``TFOpLambda(<tf symbol>)``; no code runs: the symbol names a TensorFlow
API function."""

from __future__ import annotations

from dataclasses import replace

from nnrosetta_frontend_tf.layers._base import LAYERS, LayerIssue, Out, layer

_X, _XY = ("x",), ("x", "y")
# tf symbol -> (Keras 3 operation key, parameter names in positional order)
TF_OPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "__operators__.add": ("ops.Add", _XY), "math.add": ("ops.Add", _XY),
    "math.subtract": ("ops.Subtract", _XY), "math.multiply": ("ops.Multiply", _XY),
    "math.truediv": ("ops.Divide", _XY), "math.divide": ("ops.Divide", _XY),
    "math.maximum": ("ops.Maximum", _XY), "math.minimum": ("ops.Minimum", _XY),
    "nn.relu": ("ops.Relu", ("features",)), "nn.relu6": ("ops.Relu6", ("features",)),
    "math.sigmoid": ("ops.Sigmoid", _X), "nn.sigmoid": ("ops.Sigmoid", _X),
    "math.tanh": ("ops.Tanh", _X), "nn.tanh": ("ops.Tanh", _X),
    "math.exp": ("ops.Exp", _X), "math.log": ("ops.Log", _X), "math.sqrt": ("ops.Sqrt", _X),
    "math.abs": ("ops.Abs", _X), "math.negative": ("ops.Negative", _X),
    "math.erf": ("ops.Erf", _X), "nn.silu": ("ops.Silu", ("features",)),
    "nn.swish": ("ops.Silu", ("features",)), "math.softplus": ("ops.Softplus", ("features",)),
    "nn.softplus": ("ops.Softplus", ("features",)), "nn.selu": ("ops.Selu", ("features",)),
    "nn.softmax": ("ops.Softmax", ("logits", "axis")),
    "nn.log_softmax": ("ops.LogSoftmax", ("logits", "axis")),
    "concat": ("ops.Concatenate", ("values", "axis")),
    "reshape": ("ops.Reshape", ("tensor", "shape")),
    "compat.v1.transpose": ("ops.Transpose", ("a", "perm")),
    "transpose": ("ops.Transpose", ("a", "perm")),
    "math.reduce_mean": ("ops.Mean", ("input_tensor", "axis", "keepdims")),
    "math.reduce_sum": ("ops.Sum", ("input_tensor", "axis", "keepdims")),
    "math.reduce_max": ("ops.Max", ("input_tensor", "axis", "keepdims")),
    "math.reduce_min": ("ops.Min", ("input_tensor", "axis", "keepdims")),
}
# parameter name -> the config key of the Keras 3 operation
_CONFIG = {"axis": "axis", "keepdims": "keepdims", "shape": "newshape", "perm": "axes"}


def tf_op(call, ctx) -> Out:
    """A TensorFlow function called in a Keras 2 functional model (TFOpLambda)"""
    symbol = call.key[len("TFOpLambda("):-1]
    key, params = TF_OPS[symbol]
    bound = dict(zip(params, call.args, strict=False))
    for k, v in call.kwargs.items():
        if k in params:
            bound[k] = v
    operands = tuple(bound[p] for p in params if p not in _CONFIG and p in bound)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])           # concat's list of values
    config = {_CONFIG[p]: bound[p] for p in params if p in _CONFIG and p in bound}
    if key == "ops.Concatenate" and "axis" not in config:
        raise LayerIssue("BAD_CONFIG", f"{call.label}: concat without an axis")
    if "newshape" in config:
        config["newshape"] = [int(d) for d in config["newshape"]]
    return LAYERS[key].fn(replace(call, key=key, args=operands, config=config), ctx)


def _ir_ops(key: str) -> tuple[str, ...]:
    from nnrosetta_frontend_tf.layers import ops as _ops  # noqa: F401 - registers ops.*

    return LAYERS[key].ir_ops


for _symbol, (_key, _) in TF_OPS.items():
    layer(f"TFOpLambda({_symbol})", ir_ops=_ir_ops(_key))(tf_op)
