"""RNN, GRU, LSTM (opset 7..) -> the IR ops of the same names.

Inputs after X keep their ONNX order and meaning: a constant one (initializer, Constant
node) becomes a stored weight of the node (W, R, B, sequence_lens, initial_h, initial_c, P),
one computed at run time is bound to the node's inputs. Activation names are written in
ONNX's spelling; ``hidden_size`` is taken from R when the attribute is absent.
"""

import numpy as np

from nnrosetta.ir.graph import make_ref
from nnrosetta.ir.ops.rnn import CELLS, DIRECTIONS, ROLES, canonical_activation
from nnrosetta_frontend_onnx.importers._base import (
    NodeIssue,
    Out,
    Unsupported,
    bind_inputs,
    importer,
    node,
)


def _import(op: str, onode, ctx) -> Out:
    roles = ROLES[op]
    for i, role in ((0, "X"), (1, "W"), (2, "R")):
        if not ctx.has(onode.input(i)):
            raise NodeIssue("BAD_INPUT", f"{onode.label}: input {role} is missing")
    direction = onode.attr("direction", "forward")
    direction = direction.decode() if isinstance(direction, bytes) else str(direction)
    if direction not in DIRECTIONS:
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: direction {direction!r} is not one "
                        f"of {list(DIRECTIONS)}")
    try:
        acts = [canonical_activation(a.decode() if isinstance(a, bytes) else a)
                for a in (onode.attr("activations") or [])]
    except ValueError as e:
        raise Unsupported(f"{onode.label}: {e}") from e
    n_fns = len(CELLS[op][1])
    nd = 2 if direction == "bidirectional" else 1
    if acts and len(acts) not in (n_fns, n_fns * nd):
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: {len(acts)} activations; {op} takes "
                        f"{n_fns} per direction")
    hidden = int(onode.attr("hidden_size", 0) or 0)
    if not hidden:
        hidden = int(ctx.need_shape(onode, onode.input(2))[-1])
    clip = onode.attr("clip")
    if clip is not None and float(clip) <= 0:
        raise Unsupported(f"{onode.label}: clip {clip} (not positive) is not supported")
    layout = int(onode.attr("layout", 0))
    if layout not in (0, 1):
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: layout {layout} is not 0 or 1")
    outs = list(onode.outputs)
    while len(outs) > 1 and not outs[-1]:
        outs.pop()
    attrs = {
        "direction": direction,
        "hidden_size": hidden,
        "activations": acts,
        "activation_alpha": [float(v) for v in onode.attr("activation_alpha") or []],
        "activation_beta": [float(v) for v in onode.attr("activation_beta") or []],
        "clip": float(clip) if clip is not None else 0.0,
        "layout": layout,
        "num_outputs": len(outs),
    }
    if op == "GRU":
        attrs["linear_before_reset"] = bool(int(onode.attr("linear_before_reset", 0)))
    if op == "LSTM":
        attrs["input_forget"] = bool(int(onode.attr("input_forget", 0)))
    n = node(onode, op, [ctx.ref(onode.input(0))], **attrs)
    weights, bound = {}, {}
    for i, role in enumerate(roles, start=1):
        name = onode.input(i)
        if not ctx.has(name):
            continue
        if ctx.is_const(name):
            t = ctx.tensor(name, role)
            if role == "sequence_lens":
                t = t.map(lambda a: np.asarray(a, dtype=np.int32), dtype="int32")
            weights[f"{n.name}.{role}"] = t
        elif role == "sequence_lens":
            bound[role] = ctx.ref(name, "any")
        else:
            bound[role] = ctx.ref(name)
    out = Out([bind_inputs(n, bound)], weights)
    out.outputs = [make_ref(n.name, i) if o else None for i, o in enumerate(onode.outputs)]
    return out


@importer("RNN", since=7, ir_ops=["RNN"])
def rnn(onode, ctx) -> Out:
    return _import("RNN", onode, ctx)


@importer("GRU", since=7, ir_ops=["GRU"])
def gru(onode, ctx) -> Out:
    return _import("GRU", onode, ctx)


@importer("LSTM", since=7, ir_ops=["LSTM"])
def lstm(onode, ctx) -> Out:
    return _import("LSTM", onode, ctx)
