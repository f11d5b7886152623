"""RNN, GRU, LSTM: the ONNX ops of the same names (the IR keeps ONNX's attributes, weight
layouts and gate orders).

The written node always uses ``layout`` 0 (time first), with Transposes around it for a
batch-first IR node: onnxruntime refuses ``layout`` 1, and opset 13 has no such attribute.
``hidden_size`` is always written (onnxruntime requires it); ``sequence_lens`` is int32.
"""

import numpy as np
from onnx import TensorProto

from nnrosetta.ir.ops.rnn import ROLES, activation_lists, canonical_activation, dims
from nnrosetta_backend_onnx.emitters import emitter


def _present(c, op: str) -> dict[str, tuple[int, ...] | None]:
    return {r: c.weight_shape(r) for r in ROLES[op] if c.has_weight(r)}


def _check(op: str):
    def check(c) -> list[str]:
        x = c.in_shape(0)
        shapes = _present(c, op)
        if x is None or any(s is None for s in shapes.values()):
            return ["the input and weight shapes must be known"]
        try:
            dims(op, c.attrs, x, shapes)
            activation_lists(op, c.attrs)
        except ValueError as e:
            return [str(e)]
        return []
    return check


def _emit(e, op: str) -> None:
    attrs = e.attrs
    _, _, _, hidden, _ = dims(op, attrs, e.in_shape(0), _present(e, op))
    batch_first = bool(attrs["layout"])
    x = e.x
    if batch_first:
        x = e.node("Transpose", [x], {"perm": [1, 0, 2]})
    ins = [x]
    for role in ROLES[op]:
        if not e.has_weight(role):
            ins.append("")
            continue
        if role == "sequence_lens":
            if e.dynamic(role):
                ins.append(e.node("Cast", [e.weight(role)], {"to": TensorProto.INT32},
                                  dtype=TensorProto.INT32))
            else:
                ins.append(e.const(e.weight_array(role), np.int32, hint="sequence_lens"))
            continue
        v = e.weight(role)
        if batch_first and role in ("initial_h", "initial_c"):
            v = e.node("Transpose", [v], {"perm": [1, 0, 2]})
        ins.append(v)
    while ins[-1] == "":
        ins.pop()
    a = {"hidden_size": int(hidden), "direction": attrs["direction"]}
    if attrs["activations"]:
        a["activations"] = [canonical_activation(n) for n in attrs["activations"]]
    if attrs["activation_alpha"]:
        a["activation_alpha"] = [float(v) for v in attrs["activation_alpha"]]
    if attrs["activation_beta"]:
        a["activation_beta"] = [float(v) for v in attrs["activation_beta"]]
    if float(attrs["clip"]) > 0:
        a["clip"] = float(attrs["clip"])
    if op == "GRU" and attrs["linear_before_reset"]:
        a["linear_before_reset"] = 1
    if op == "LSTM" and attrs["input_forget"]:
        a["input_forget"] = 1
    if not batch_first:
        e.node(op, ins, a, outputs=e.outs)
        return
    outs = [e.tmp(f"{op}_{i}") for i in range(len(e.outs))]
    e.node(op, ins, a, outputs=outs)
    for i, (o, final) in enumerate(zip(outs, e.outs, strict=True)):
        perm = [2, 0, 1, 3] if i == 0 else [1, 0, 2]   # back to batch first
        e.node("Transpose", [o], {"perm": perm}, outputs=[final])


@emitter("RNN", check=_check("RNN"))
def emit_rnn(e) -> None:
    _emit(e, "RNN")


@emitter("GRU", check=_check("GRU"))
def emit_gru(e) -> None:
    _emit(e, "GRU")


@emitter("LSTM", check=_check("LSTM"))
def emit_lstm(e) -> None:
    _emit(e, "LSTM")
