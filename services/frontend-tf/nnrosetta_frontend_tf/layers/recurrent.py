"""SimpleRNN, GRU, LSTM, RNN(SimpleRNNCell / GRUCell / LSTMCell) and Bidirectional -> IR RNN /
GRU / LSTM (ONNX semantics, batch-first ``layout`` 1), then Reshape / Slice / Split /
reductions to give Keras' outputs.

``RNN(LSTMCell(units, ...), return_sequences, ...)`` computes what ``LSTM(units, ...)`` with
the cell's settings computes: its settings are the cell's config (units, activations,
use_bias, reset_after) joined with the RNN layer's (return_sequences, return_state,
go_backwards, stateful, ...), its weights the cell's.

Keras sequences are ``[batch, time, features]`` and so is the IR op's ``X`` with ``layout`` 1:
the layer reads its input in the Keras layout (a sequence held channels-first after a Conv1D
gets one Transpose). ``Y`` is ``[batch, time, directions, units]`` and the states ``[batch,
directions, units]``; Keras' outputs are reshaped views of them.

Weights: Keras' ``kernel`` ``[in, gates * units]`` and ``recurrent_kernel`` ``[units, gates *
units]`` are transposed into ONNX's ``W`` / ``R`` (gate blocks reordered: Keras LSTM i, f, c,
o -> ONNX i, o, f, c; GRU z, r, h is ONNX's order). Keras' one bias becomes ONNX's ``[Wb,
Rb]`` with ``Rb`` zero, except GRU ``reset_after=True`` whose bias is already ``[2, 3 *
units]`` (input and recurrent biases; ONNX ``linear_before_reset`` 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nnrosetta.ir.ops.rnn import ACTIVATIONS as ONNX_ACTIVATIONS
from nnrosetta.ir.ops.rnn import CELLS
from nnrosetta_frontend_tf import compat
from nnrosetta_frontend_tf.layers._base import (
    LayerCall,
    LayerIssue,
    Out,
    OutVal,
    Tensor,
    Unsupported,
    activation_name,
    float_weight,
    layer,
)

# Keras class -> (IR op, gates, Keras gate block of each ONNX gate block)
_CELLS = {
    "SimpleRNN": ("RNN", 1, (0,)),
    "GRU": ("GRU", 3, (0, 1, 2)),
    "LSTM": ("LSTM", 4, (0, 3, 1, 2)),
}
# Keras activation name -> ONNX activation (name, alpha, beta); None: measured from Keras
_ACTS: dict[str, tuple[str, float, float] | None] = {
    "tanh": ("Tanh", 0.0, 0.0),
    "sigmoid": ("Sigmoid", 0.0, 0.0),
    "relu": ("Relu", 0.0, 0.0),
    "linear": ("Affine", 1.0, 0.0),
    "softsign": ("Softsign", 0.0, 0.0),
    "softplus": ("Softplus", 0.0, 0.0),
    "elu": ("Elu", 1.0, 0.0),
    "leaky_relu": ("LeakyRelu", 0.2, 0.0),
    "hard_sigmoid": None,
}
_IR_OPS = ["RNN", "GRU", "LSTM", "Reshape", "Slice", "Split", "Concat", "ReduceSum",
           "ReduceMean", "ReduceProd", "Transpose"]


# Keras cell class -> the Keras layer class that runs that cell
CELL_LAYERS = {"SimpleRNNCell": "SimpleRNN", "GRUCell": "GRU", "LSTMCell": "LSTM"}
# RNN layer settings (the rest of an RNN(cell) config is the cell's)
_RNN_KEYS = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll",
             "time_major", "zero_output_for_mask")


@dataclass
class _Dir:
    """One Keras recurrent layer as one direction of the IR op."""

    layer: Any
    config: dict
    cls: str


def _sub_call(call: LayerCall, lay) -> _Dir:
    cls = type(lay).__name__
    cfg = lay.get_config() if lay is not call.layer else call.config
    cfg = cfg if isinstance(cfg, dict) else {}
    if cls == "RNN":
        return _cell_dir(call, lay, cfg)
    if cls not in _CELLS:
        raise Unsupported(f"{call.label}: wraps a {cls} layer (SimpleRNN, GRU, LSTM and "
                          "RNN(SimpleRNNCell / GRUCell / LSTMCell) are supported)",
                          "UNSUPPORTED_LAYER")
    return _Dir(lay, cfg, cls)


def keras_module(module: str) -> bool:
    """Whether a class of this module is Keras' own (not a user's class of the same name)."""
    return (module or "").split(".")[0] in ("keras", "tf_keras", "tensorflow")


STACKED = ("only one SimpleRNNCell, GRUCell or LSTMCell per RNN layer is supported: use one "
           "RNN (or SimpleRNN / GRU / LSTM) layer per cell, with return_sequences=True on all "
           "but the last")
CUSTOM_CELL = ("which is not Keras' SimpleRNNCell, GRUCell or LSTMCell (a custom cell's "
               "computation cannot be converted)")


def _cell_dir(call: LayerCall, lay, cfg: dict) -> _Dir:
    """An RNN(cell) layer as the SimpleRNN / GRU / LSTM layer it equals: the cell's config
    with the RNN layer's settings over it; the weights stay the cell's (``lay.cell``)."""
    cell = getattr(lay, "cell", None)
    cname = type(cell).__name__
    if cname == "StackedRNNCells" or isinstance(cell, (list, tuple)):
        cells = getattr(cell, "cells", cell if isinstance(cell, (list, tuple)) else [])
        names = ", ".join(type(c).__name__ for c in cells) or "?"
        raise Unsupported(f"{call.label}: runs a StackedRNNCells ({names}); {STACKED}",
                          "UNSUPPORTED_LAYER")
    if cname not in CELL_LAYERS or not keras_module(type(cell).__module__):
        raise Unsupported(f"{call.label}: runs a {cname} cell, {CUSTOM_CELL}",
                          "UNSUPPORTED_LAYER")
    try:
        ccfg = cell.get_config()
    except Exception as e:  # noqa: BLE001 - becomes an issue
        raise LayerIssue("BAD_CONFIG", f"{call.label}: the {cname}'s config cannot be read "
                         f"({type(e).__name__}: {e})") from e
    merged = dict(ccfg) if isinstance(ccfg, dict) else {}
    for k in _RNN_KEYS:
        merged.pop(k, None)
        if k in cfg:
            merged[k] = cfg[k]
    return _Dir(lay, merged, CELL_LAYERS[cname])


def _refuse_settings(call: LayerCall, d: _Dir) -> None:
    """Settings the IR op cannot express (dropout is inactive at inference: fine)."""
    if d.config.get("stateful"):
        raise Unsupported(f"{call.label}: stateful=True (the state carried from one batch "
                          "to the next lives outside the model); rebuild the layer with "
                          "stateful=False, or pass the state as initial_state")
    if d.config.get("time_major"):
        raise Unsupported(f"{call.label}: time_major=True (only batch-major sequences are "
                          "supported)")


def _onnx_act(call: LayerCall, d: _Dir, key: str) -> tuple[str, float, float]:
    probe = LayerCall(d.layer, call.key, call.name, d.config, 1)
    name = activation_name(probe, key)
    if name not in _ACTS:
        raise Unsupported(f"{call.label}: {key} {name!r} has no ONNX recurrent equivalent "
                          f"(supported: {', '.join(sorted(_ACTS))})", "UNSUPPORTED_ACTIVATION")
    act = _ACTS[name]
    if act is None:
        alpha, beta = compat.hard_sigmoid_coefficients()
        act = ("HardSigmoid", float(alpha), float(beta))
    return act


def _activations(call: LayerCall, d: _Dir) -> list[tuple[str, float, float]]:
    """The ONNX activation list of one direction: RNN f; GRU f, g; LSTM f, g, h."""
    g = _onnx_act(call, d, "activation")
    if d.cls == "SimpleRNN":
        return [g]
    f = _onnx_act(call, d, "recurrent_activation")
    return [f, g] if d.cls == "GRU" else [f, g, g]


def _var(call: LayerCall, d: _Dir, name: str):
    return float_weight(call, getattr(d.layer, "cell", d.layer), name)


def _gate_rows(a: np.ndarray, gates: int, order: tuple[int, ...]) -> np.ndarray:
    """Keras ``[x, gates * units]`` -> ONNX ``[gates * units, x]`` in ONNX's gate order."""
    blocks = np.split(a, gates, axis=-1)
    return np.ascontiguousarray(np.concatenate([blocks[k] for k in order], axis=-1).T)


def _loaders(call: LayerCall, d: _Dir, units: int):
    """(W, R, B) loaders of one direction (B None without bias), ONNX layouts."""
    _, gates, order = _CELLS[d.cls]
    kv, rv = _var(call, d, "kernel"), _var(call, d, "recurrent_kernel")
    kshape = tuple(int(s) for s in kv.shape)
    if kshape[-1] != gates * units or tuple(int(s) for s in rv.shape) != (units, gates * units):
        raise LayerIssue("BAD_SHAPE", f"{call.label}: kernel {list(kshape)} / recurrent_kernel "
                         f"{list(rv.shape)} do not fit {units} units")
    w = lambda: _gate_rows(compat.to_numpy(kv), gates, order)  # noqa: E731
    r = lambda: _gate_rows(compat.to_numpy(rv), gates, order)  # noqa: E731
    b = None
    if d.config.get("use_bias", True):
        bv = _var(call, d, "bias")
        n = gates * units
        two = d.cls == "GRU" and d.config.get("reset_after", False)

        def b():
            v = compat.to_numpy(bv).reshape(-1)
            if two:                 # [input biases, recurrent biases]
                return np.concatenate([_gate_rows(v[:n], gates, order).reshape(-1),
                                       _gate_rows(v[n:], gates, order).reshape(-1)])
            return np.concatenate([_gate_rows(v, gates, order).reshape(-1),
                                   np.zeros(n, np.float32)])
    return kshape[0], w, r, b


def _tensors(call: LayerCall, ctx) -> tuple[int, list[int]]:
    """(input index of the sequence, input indices of the initial states); refuses a mask."""
    args = list(call.args)
    first = args[0] if args else None
    states: list = []
    if isinstance(first, (list, tuple)):          # Keras 2: layer([x, h0, c0])
        first, states = first[0], list(first[1:])
    init = call.kwargs.get("initial_state")
    if init is not None:
        states += list(init) if isinstance(init, (list, tuple)) else [init]
    mask = call.kwargs.get("mask")
    if hasattr(mask, "_keras_history") or (getattr(first, "_keras_mask", None) is not None
                                           and getattr(call.layer, "_expects_mask_arg", True)):
        raise Unsupported(f"{call.label}: its input carries a Keras mask (Masking, or "
                          "Embedding(mask_zero=True)); masked time steps cannot be expressed "
                          "in the IR: remove the mask")
    keys = ctx.call.inputs
    by_id = ctx.call.tensors

    def index(t) -> int:
        k = by_id.get(id(t))
        if k is None or k not in keys:
            raise LayerIssue("BAD_INPUTS", f"{call.label}: an input is not a tensor of the "
                             "model's graph")
        return keys.index(k)

    x = index(first) if first is not None else 0
    return x, [index(s) for s in states]


class _Builder:
    """Collects the nodes and weights of one recurrent layer call."""

    def __init__(self, call: LayerCall, ctx):
        self.call, self.ctx = call, ctx
        self.nodes: list = []
        self.weights: dict[str, Tensor] = {}

    def add(self, op: str, inputs: list[str], suffix: str, **attrs):
        n = self.ctx.node(self.call, op, inputs, suffix, **attrs)
        self.nodes.append(n)
        return n.name

    def per_dir(self, ref: str, axis: int, rest: list[int], nd: int) -> list[str]:
        """The direction slices of ``ref`` (direction axis ``axis``), each reshaped to
        ``[batch, *rest]``."""
        if nd == 1:
            return [self.add("Reshape", [ref], "", shape=[0, *rest])]
        split = self.add("Split", [ref], "split", axis=axis, split=[1] * nd)
        return [self.add("Reshape", [f"{split}:{i}" if i else split], f"dir{i}",
                         shape=[0, *rest]) for i in range(nd)]

    def initial(self, idxs: list[int], nd: int, units: int) -> str:
        """IR ``initial_h`` / ``initial_c`` ``[batch, dirs, units]`` from Keras states
        ``[batch, units]`` (one per direction)."""
        parts = []
        for i in idxs:
            v = self.ctx.source_layout(i)
            if v.rank != 2 or v.shape[1] != units:
                raise LayerIssue("BAD_SHAPE", f"{self.call.label}: initial state of shape "
                                 f"{list(v.shape)}, expected [batch, {units}]")
            parts.append(self.add("Reshape", [v.ref], "state_in", shape=[0, 1, units]))
        if len(parts) == 1:
            return parts[0]
        return self.add("Concat", parts, "states_in", axis=1)


def _convert(call: LayerCall, ctx, dirs: list[_Dir], merge: str | None) -> Out:
    """One IR recurrent node for ``dirs`` (one layer, or Bidirectional's forward and backward
    layers), then Keras' outputs: the sequence or last output (merged across directions by
    ``merge``), then the states when return_state."""
    for d in dirs:
        _refuse_settings(call, d)
    main = dirs[0]
    cls = main.cls
    op, gates, _ = _CELLS[cls]
    units = int(main.config.get("units"))
    nd = len(dirs)
    if nd == 2:
        back = dirs[1]
        if back.cls != cls or int(back.config.get("units")) != units:
            raise Unsupported(f"{call.label}: forward {cls}({units}) and backward "
                              f"{back.cls}({back.config.get('units')}) layers differ")
        if bool(main.config.get("use_bias", True)) != bool(back.config.get("use_bias", True)) \
                or bool(main.config.get("reset_after", False)) != \
                bool(back.config.get("reset_after", False)):
            raise Unsupported(f"{call.label}: forward and backward layers differ in use_bias "
                              "/ reset_after")
        if main.config.get("go_backwards") or not back.config.get("go_backwards"):
            raise Unsupported(f"{call.label}: the forward layer runs backwards (go_backwards) "
                              "or the backward layer forwards")
    ret_seq = bool(main.config.get("return_sequences", False))
    ret_state = bool(main.config.get("return_state", False))
    go_back = nd == 1 and bool(main.config.get("go_backwards", False))

    x_i, state_is = _tensors(call, ctx)
    x = ctx.source_layout(x_i)
    if x.rank != 3:
        raise LayerIssue("BAD_SHAPE", f"{call.label}: input of rank {x.rank}, expected 3 "
                         "(batch, time, features)")
    steps = x.shape[1]
    b = _Builder(call, ctx)
    n_state = 2 if cls == "LSTM" else 1
    if state_is and len(state_is) != n_state * nd:
        raise LayerIssue("BAD_INPUTS", f"{call.label}: {len(state_is)} initial states, "
                         f"expected {n_state * nd}")

    # -- the recurrent node ----------------------------------------------------------------
    loads = [_loaders(call, d, units) for d in dirs]
    fin = loads[0][0]
    if fin != x.shape[2]:
        raise LayerIssue("BAD_SHAPE", f"{call.label}: kernel for {fin} input features, the "
                         f"input has {x.shape[2]}")
    acts = [_activations(call, d) for d in dirs]
    flat = [a for per in acts for a in per]
    attrs: dict[str, Any] = {
        "hidden_size": units, "layout": 1,
        "direction": "bidirectional" if nd == 2 else ("reverse" if go_back else "forward"),
        # Y, then Y_h (the last output or a state), then Y_c (LSTM's cell state)
        "num_outputs": 3 if cls == "LSTM" and ret_state else
        2 if ret_state or not ret_seq else 1,
    }
    if [a[0] for a in flat] != CELLS[op][1] * nd:      # not ONNX's defaults
        attrs["activations"] = [a[0] for a in flat]
        alphas = [a[1] for a in flat if ONNX_ACTIVATIONS[a[0]][0] is not None]
        betas = [a[2] for a in flat if ONNX_ACTIVATIONS[a[0]][1] is not None]
        if alphas:
            attrs["activation_alpha"] = alphas
        if betas:
            attrs["activation_beta"] = betas
    if cls == "GRU":
        attrs["linear_before_reset"] = bool(main.config.get("reset_after", False))
    inputs = [x.ref]
    if state_is:
        hs = state_is[0::n_state]
        inputs.append(b.initial(hs, nd, units))
        roles = ["initial_h"]
        if n_state == 2:
            inputs.append(b.initial(state_is[1::n_state], nd, units))
            roles.append("initial_c")
        attrs["weight_inputs"] = roles
    name = b.add(op, inputs, "", **attrs)
    g = gates * units

    def stack(i: int):
        return lambda: np.stack([ld[i]() for ld in loads]).astype(np.float32)

    b.weights[f"{name}.W"] = Tensor((nd, g, fin), stack(1))
    b.weights[f"{name}.R"] = Tensor((nd, g, units), stack(2))
    if loads[0][3] is not None:
        b.weights[f"{name}.B"] = Tensor((nd, 2 * g), stack(3))

    # -- Keras' outputs --------------------------------------------------------------------
    if ret_seq:
        seq = name
        if go_back:     # Keras returns the sequence in the order it was processed
            seq = b.add("Slice", [name], "backwards", starts=[-1], ends=[-steps - 1],
                        axes=[1], steps=[-1])
        main_ref = _merge(b, seq, 2, [steps, units], nd, merge)
    else:
        main_ref = _merge(b, f"{name}:1", 1, [units], nd, merge)
    outs = [main_ref] if isinstance(main_ref, str) else list(main_ref)
    if ret_state:
        h = [main_ref] if nd == 1 and not ret_seq else b.per_dir(f"{name}:1", 1, [units], nd)
        c = b.per_dir(f"{name}:2", 1, [units], nd) if cls == "LSTM" else []
        for i in range(nd):
            outs.append(h[i])
            if c:
                outs.append(c[i])
    return Out(b.nodes, b.weights, [OutVal(r, None) for r in outs])


def _merge(b: _Builder, ref: str, axis: int, rest: list[int], nd: int,
           merge: str | None) -> str | list[str]:
    """Keras' output from an IR ``[batch, (time,) dirs, units]`` tensor: one direction
    reshaped; two concatenated (one reshape), summed, multiplied, averaged, or both
    (merge_mode None: a list)."""
    if nd == 1:
        return b.add("Reshape", [ref], "", shape=[0, *rest])
    if merge == "concat":
        return b.add("Reshape", [ref], "", shape=[0, *rest[:-1], 2 * rest[-1]])
    if merge is None:
        return b.per_dir(ref, axis, rest, nd)
    op = {"sum": "ReduceSum", "ave": "ReduceMean", "mul": "ReduceProd"}[merge]
    return b.add(op, [ref], "", axes=[axis], keepdims=False)


@layer("SimpleRNN", "GRU", "LSTM", ir_ops=_IR_OPS)
def recurrent(call, ctx) -> Out:
    """keras.layers.SimpleRNN / GRU / LSTM(units, activation, recurrent_activation, use_bias,
    return_sequences, return_state, go_backwards, reset_after, initial_state): IR RNN / GRU
    / LSTM (layout 1); activations tanh, sigmoid, relu, linear, hard_sigmoid, softsign,
    softplus, elu, leaky_relu; stateful, time_major and masks are refused"""
    return _convert(call, ctx, [_sub_call(call, call.layer)], "concat")


@layer("RNN", ir_ops=_IR_OPS)
def rnn(call, ctx) -> Out:
    """keras.layers.RNN(SimpleRNNCell / GRUCell / LSTMCell, return_sequences, return_state,
    go_backwards, initial_state): as the SimpleRNN / GRU / LSTM layer with the cell's
    settings; StackedRNNCells (a list of cells), custom cells, stateful, time_major and masks
    are refused"""
    return _convert(call, ctx, [_sub_call(call, call.layer)], "concat")


_MERGES = ("concat", "sum", "mul", "ave", None)


@layer("Bidirectional", ir_ops=_IR_OPS)
def bidirectional(call, ctx) -> Out:
    """keras.layers.Bidirectional(SimpleRNN / GRU / LSTM / RNN(one cell), merge_mode concat /
    sum / mul / ave / None, backward_layer of the same kind and size): one IR op with
    direction bidirectional"""
    merge = call.cfg("merge_mode", "concat")
    if merge not in _MERGES:
        raise Unsupported(f"{call.label}: merge_mode {merge!r} (supported: concat, sum, mul, "
                          "ave, None)")
    fwd = getattr(call.layer, "forward_layer", None)
    bwd = getattr(call.layer, "backward_layer", None)
    if fwd is None or bwd is None:
        raise LayerIssue("BAD_CONFIG", f"{call.label} has no forward / backward layer")
    return _convert(call, ctx, [_sub_call(call, fwd), _sub_call(call, bwd)], merge)
