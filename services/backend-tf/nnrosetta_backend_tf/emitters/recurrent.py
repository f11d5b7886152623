"""RNN, GRU, LSTM -> ``layers.SimpleRNN`` / ``layers.GRU`` / ``layers.LSTM``, wrapped in
``layers.Bidirectional`` for both directions.

Keras runs batch-first sequences ``[batch, time, features]``: the IR's ``layout`` 1. With
``layout`` 0 (``X [seq, batch, in]``) the input is transposed once and the outputs keep Keras'
batch-first arrangement, their layouts saying so (a reader that needs the IR's order gets a
transpose). The layer returns what the node's readers use: the sequence (``Y``, reshaped to
``[batch, time, dirs, hidden]``), the last output (``Y_h`` alone) or the states
(``return_state``). A ``reverse`` node runs with ``go_backwards=True`` and its sequence is
flipped back to the original time order (Keras returns it in processing order);
``Bidirectional`` already does that for its backward layer.

Weights: ONNX's ``W`` ``[gates * hidden, in]`` / ``R`` ``[gates * hidden, hidden]`` become
Keras' ``kernel`` ``[in, gates * hidden]`` / ``recurrent_kernel`` (transposed, the gate blocks
reordered: ONNX LSTM i, o, f, c -> Keras i, f, c, o; GRU z, r, h is Keras' order). The bias is
``Wb + Rb``, except GRU ``linear_before_reset`` 1 (Keras ``reset_after=True``) whose bias is
``[2, 3 * hidden]`` = ``[Wb; Rb]`` (the recurrent bias of h is inside ``r * (...)``). With
``linear_before_reset`` 0 ONNX adds ``Rbh`` outside ``r * (H Rh)``, as Keras
``reset_after=False`` adds its one bias: the sum is exact.
"""

from __future__ import annotations

import numpy as np

from nnrosetta.ir.graph import make_ref
from nnrosetta.ir.ops.rnn import CELLS, activation_lists, directions
from nnrosetta_backend_tf.codegen import Code, call
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.layout import Layout, identity

# IR op -> (Keras layer, the ONNX gate block that each Keras gate block takes)
KERAS = {
    "RNN": ("layers.SimpleRNN", (0,)),
    "GRU": ("layers.GRU", (0, 1, 2)),
    "LSTM": ("layers.LSTM", (0, 2, 3, 1)),
}
# Keras 3's hard_sigmoid is relu6(x + 3) / 6 = clip(x / 6 + 0.5, 0, 1)
_HARD_SIGMOID = (1.0 / 6.0, 0.5)


def keras_activation(name: str, alpha: float, beta: float) -> str | None:
    """The Keras activation string computing an ONNX activation exactly, or None."""
    plain = {"Tanh": "tanh", "Sigmoid": "sigmoid", "Relu": "relu", "Softsign": "softsign",
             "Softplus": "softplus"}
    if name in plain:
        return plain[name]
    if name == "Affine" and (alpha, beta) == (1.0, 0.0):
        return "linear"
    if name == "Elu" and alpha == 1.0:
        return "elu"
    if name == "LeakyRelu" and abs(alpha - 0.2) < 1e-7:
        return "leaky_relu"
    if name == "HardSigmoid" and np.allclose((alpha, beta), _HARD_SIGMOID, rtol=0, atol=1e-6):
        return "hard_sigmoid"
    return None


def _describe(a: tuple[str, float, float]) -> str:
    name, alpha, beta = a
    return f"{name}(alpha={alpha:g}, beta={beta:g})" if name in ("Affine", "ScaledTanh",
                                                                 "HardSigmoid") else \
        f"{name}(alpha={alpha:g})" if name in ("LeakyRelu", "ThresholdedRelu", "Elu") else name


def _activation_kwargs(op: str, attrs) -> tuple[dict[str, str], list[str]]:
    """(the Keras layer's activation arguments, problems): RNN ``activation`` = f; GRU and
    LSTM ``recurrent_activation`` = f, ``activation`` = g (LSTM: = h as well)."""
    try:
        per_dir = activation_lists(op, attrs)
    except ValueError as e:
        return {}, [str(e)]
    problems = []
    if len(per_dir) == 2 and per_dir[0] != per_dir[1]:
        problems.append("the two directions use different activations (Bidirectional runs "
                        "one configuration both ways)")
    acts = per_dir[0]
    if op == "LSTM" and acts[1] != acts[2]:
        problems.append(f"LSTM activations g {_describe(acts[1])} and h {_describe(acts[2])} "
                        "differ (Keras' LSTM uses one activation for both)")
    names = ["activation"] if op == "RNN" else ["recurrent_activation", "activation"]
    kwargs: dict[str, str] = {}
    for key, a in zip(names, acts, strict=False):
        k = keras_activation(*a)
        if k is None:
            problems.append(f"activation {_describe(a)} has no Keras equivalent (Keras has "
                            "tanh, sigmoid, relu, linear, softsign, softplus, elu, "
                            "leaky_relu(0.2), hard_sigmoid(1/6, 0.5))")
        elif k != ("tanh" if key == "activation" else "sigmoid"):
            kwargs[key] = k
    return kwargs, problems


def check(c) -> list[str]:
    op = c.node.op
    out = []
    for role in ("W", "R", "B", "P", "sequence_lens"):
        if c.dynamic(role):
            out.append(f"{role} is computed at run time (bound to an input); Keras' layer "
                       "holds it as a weight: fold it into a stored tensor")
    if c.in_shape() is None or c.weight_shape("R") is None:
        out.append("the input or weight shapes are unknown (shape inference failed)")
    if c.has_weight("sequence_lens") or c.dynamic("sequence_lens"):
        out.append("sequence_lens (per batch entry lengths) is not supported: Keras would "
                   "need a mask; drop it when every sequence has the full length")
    if c.has_weight("P") or c.dynamic("P"):
        out.append("peepholes (P) are not supported: Keras' LSTM has none")
    if float(c.attr("clip", 0.0)) > 0:
        out.append(f"clip {c.attr('clip')} is not supported: Keras' layers do not clip the "
                   "gate pre-activations")
    if op == "LSTM" and c.attr("input_forget", False):
        out.append("input_forget (f = 1 - i) is not supported: Keras' LSTM has no coupled "
                   "gates")
    out += _activation_kwargs(op, c.attrs)[1]
    return out


def _used(e, i: int) -> bool:
    """Whether output i is read, returned or fetched."""
    ref = make_ref(e.name, i)
    return i < len(e.outs) and (bool(e.consumers(i)) or e.is_output(i)
                                or ref in e._gen.tap_set)


def _keras_weights(op: str, w, r, b, d: int, hidden: int, two_biases: bool) -> list:
    """Direction d's ``[kernel, recurrent_kernel(, bias)]`` in Keras' gate order."""
    order = KERAS[op][1]
    n = CELLS[op][0] * hidden

    def blocks(m: np.ndarray) -> np.ndarray:   # ONNX gate blocks (axis 0) in Keras' order
        return np.concatenate([m[k * hidden:(k + 1) * hidden] for k in order])

    out = [np.ascontiguousarray(blocks(w[d]).T), np.ascontiguousarray(blocks(r[d]).T)]
    if b is not None:
        wb, rb = blocks(b[d, :n]), blocks(b[d, n:])
        out.append(np.stack([wb, rb]) if two_biases else wb + rb)
    return out


def _initial_states(e, roles: list[str], nd: int, hidden: int, state_lay: Layout,
                    layout1: bool) -> list[str]:
    """Keras' ``initial_state``: per direction, h (and c), each ``[batch, hidden]`` (sliced
    from an input, or a stored ``Constant``); [] when the node has none. A missing LSTM state
    of the pair is zeros (``ops.zeros_like``)."""
    given = {r for r in roles if e.dynamic(r) or e.has_weight(r)}
    if not given:
        return []
    per_role: dict[str, list[str]] = {}
    for role in roles:
        if role not in given:
            continue
        if e.dynamic(role):
            v = e.arg(e.bound_index(role), state_lay)   # Keras [batch, dirs, hidden]
            per_role[role] = [e.temp(f"{v}[:, {d}]", f"{role}_{d}") for d in range(nd)]
        else:
            value = e.weight(role)
            per_role[role] = [e.constant(np.ascontiguousarray(value[:, d] if layout1
                                                              else value[d]), f"{role}_{d}")
                              for d in range(nd)]
    for role in roles:
        if role not in per_role:
            other = per_role[next(iter(per_role))]
            e.comment(f"no {role}: zeros")
            per_role[role] = [e.temp(e.op("zeros_like", Code(v)), f"{role}_{d}")
                              for d, v in enumerate(other)]
    return [per_role[role][d] for d in range(nd) for role in roles]


def describe(op: str) -> str:
    layer = KERAS[op][0]
    extra, refused = {
        "RNN": ("", ""),
        "GRU": ("; linear_before_reset 1 -> `reset_after=True` (bias `[Wb; Rb]`), 0 -> "
                "`reset_after=False` (bias `Wb + Rb`)", ""),
        "LSTM": ("; gates reordered i, f, c, o, bias `Wb + Rb`",
                 ", peepholes P, input_forget, activations g ≠ h"),
    }[op]
    return (f"{op} -> `{layer}` (`layers.Bidirectional` for both directions; reverse: "
            "`go_backwards=True`, Y flipped back to time order), returning the sequence and/or "
            "states its readers use, reshaped to Y / Y_h / Y_c (layout 0: one transpose in, "
            f"outputs kept batch-first){extra}; initial states bound to inputs, or stored "
            "(a `Constant` layer: `import model` before loading); refused: clip, "
            f"sequence_lens, activations Keras lacks, directions that differ{refused}")


@emitter("RNN", "GRU", "LSTM", check=check, dynamic_weights=True, describe=describe)
def emit(e) -> None:
    """RNN / GRU / LSTM -> ``layers.SimpleRNN`` / ``GRU`` / ``LSTM`` (``Bidirectional``)."""
    op = e.node.op
    cls = KERAS[op][0]
    layout1 = bool(e.attr("layout", 0))
    nd = directions(e.attrs)
    reverse = e.attr("direction") == "reverse"
    w, r, b = e.weight("W"), e.weight("R"), e.weight("B")
    hidden = int(r.shape[-1])
    n_state = 2 if op == "LSTM" else 1
    # Keras holds X as [batch, time, in], Y as [batch, time, dirs, hidden] and the states as
    # [batch, dirs, hidden]: layout 1 as is, layout 0 with its batch axis first
    seq_lay = identity(3) if layout1 else Layout((1, 0, 2))
    y_lay = identity(4) if layout1 else Layout((2, 0, 1, 3))
    state_lay = seq_lay
    x = e.arg(0, seq_lay)
    want_y, want_h, want_c = (_used(e, i) for i in range(3))
    return_state = want_c or (want_h and want_y)

    kwargs, _ = _activation_kwargs(op, e.attrs)
    if b is None:
        kwargs["use_bias"] = False
    two_biases = op == "GRU" and bool(e.attr("linear_before_reset", False))
    if op == "GRU" and not two_biases:
        kwargs["reset_after"] = False
    if want_y:
        kwargs["return_sequences"] = True
    if return_state:
        kwargs["return_state"] = True
    if reverse:
        kwargs["go_backwards"] = True
    weights = [a for d in range(nd) for a in _keras_weights(op, w, r, b, d, hidden, two_biases)]
    if nd == 2:
        inner = Code(call(cls, hidden, **kwargs))
        layer = e.layer("layers.Bidirectional", inner, merge_mode="concat", weights=weights)
    else:
        layer = e.layer(cls, hidden, **kwargs, weights=weights)
    roles = ["initial_h", "initial_c"][:n_state]
    init = _initial_states(e, roles, nd, hidden, state_lay, layout1)
    args = x + (f", initial_state=[{', '.join(init)}]" if init else "")
    if return_state:
        res = e.temp(f"{layer}({args})", "results")
        main = f"{res}[0]"
    else:
        res = ""
        main = e.temp(f"{layer}({args})", "sequence" if want_y else "last")

    if want_y:
        seq = main
        if reverse:
            e.comment("go_backwards returns the sequence in processing order: flipped back to "
                      "the IR's time order")
            seq = e.temp(e.op("flip", Code(seq), axis=1), "in_time_order")
        reshape = e.layer("layers.Reshape", (-1, nd, hidden), suffix="y")
        e.assign(f"{reshape}({seq})", y_lay, i=0)

    def state(i: int, parts: list[str], suffix: str) -> None:
        """Output i ([batch, dirs, hidden] in Keras) from per-direction [batch, hidden]."""
        if len(parts) > 1:
            parts = [e.temp_layer("layers.Concatenate", f"[{', '.join(parts)}]",
                                  suffix=suffix + "_dirs")]
        reshape = e.layer("layers.Reshape", (nd, hidden), suffix=suffix)
        e.assign(f"{reshape}({parts[0]})", state_lay, i=i)

    if want_h:
        if return_state:
            state(1, [f"{res}[{1 + d * n_state}]" for d in range(nd)], "y_h")
        else:   # the last output is the final state (both directions concatenated)
            state(1, [main], "y_h")
    if want_c:
        state(2, [f"{res}[{2 + d * n_state}]" for d in range(nd)], "y_c")

