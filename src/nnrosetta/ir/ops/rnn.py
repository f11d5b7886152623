"""The recurrent ops RNN, GRU and LSTM, with ONNX's equations, gate orders and attributes.

Shared here: the activation functions (their names, default alpha/beta and which of
``activation_alpha`` / ``activation_beta`` they consume), the per-direction activation lists,
the shapes, and one NumPy time loop that the three references drive with their cell step.
Emitters import ``directions``, ``activation_lists``, ``ACTIVATIONS`` and ``dims``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnrosetta.ir.registry import Attr, op

DIRECTIONS = ("forward", "reverse", "bidirectional")

# ONNX activation name -> (default alpha, default beta); None: the function takes no such
# parameter (and consumes no value of activation_alpha / activation_beta)
ACTIVATIONS: dict[str, tuple[float | None, float | None]] = {
    "Relu": (None, None),
    "Tanh": (None, None),
    "Sigmoid": (None, None),
    "Affine": (1.0, 0.0),
    "LeakyRelu": (0.01, None),
    "ThresholdedRelu": (1.0, None),
    "ScaledTanh": (1.0, 1.0),
    "HardSigmoid": (0.2, 0.5),
    "Elu": (1.0, None),
    "Softsign": (None, None),
    "Softplus": (None, None),
}
_BY_LOWER = {k.lower(): k for k in ACTIVATIONS}

# op -> (gates, default activations of one direction, ONNX gate order)
CELLS = {
    "RNN": (1, ["Tanh"], "i"),
    "GRU": (3, ["Sigmoid", "Tanh"], "zrh"),
    "LSTM": (4, ["Sigmoid", "Tanh", "Tanh"], "iofc"),
}
# weight roles, in ONNX input order after X
ROLES = {
    "RNN": ["W", "R", "B", "sequence_lens", "initial_h"],
    "GRU": ["W", "R", "B", "sequence_lens", "initial_h"],
    "LSTM": ["W", "R", "B", "sequence_lens", "initial_h", "initial_c", "P"],
}


def canonical_activation(name: str) -> str:
    """The ONNX spelling of an activation name (ONNX accepts any case), or ValueError."""
    canon = _BY_LOWER.get(str(name).lower())
    if canon is None:
        raise ValueError(f"activation {name!r} is not one of {sorted(ACTIVATIONS)}")
    return canon


def directions(attrs) -> int:
    return 2 if attrs["direction"] == "bidirectional" else 1


def activation_lists(op_name: str, attrs) -> list[list[tuple[str, float, float]]]:
    """Per direction, the cell's activations as ``(name, alpha, beta)``.

    ``activations`` is empty (the defaults), one direction's list (used for both directions)
    or one list per direction, forward first. ``activation_alpha`` / ``activation_beta`` are
    consumed in that order by the functions that take the parameter (as onnxruntime does);
    when they run out, the function's default applies."""
    n_gates_fns = len(CELLS[op_name][1])
    nd = directions(attrs)
    names = list(attrs["activations"]) or CELLS[op_name][1] * nd
    if len(names) == n_gates_fns and nd == 2:
        names = names * 2
    if len(names) != n_gates_fns * nd:
        raise ValueError(f"{op_name} takes {n_gates_fns} activation(s) per direction "
                         f"({n_gates_fns * nd} for {attrs['direction']}), got {len(names)}")
    alphas = list(attrs["activation_alpha"])
    betas = list(attrs["activation_beta"])
    out: list[tuple[str, float, float]] = []
    for name in names:
        canon = canonical_activation(name)
        da, db = ACTIVATIONS[canon]
        a = (alphas.pop(0) if alphas else da) if da is not None else 0.0
        b = (betas.pop(0) if betas else db) if db is not None else 0.0
        out.append((canon, float(a), float(b)))
    return [out[d * n_gates_fns:(d + 1) * n_gates_fns] for d in range(nd)]


def np_activation(name: str, alpha: float, beta: float) -> Callable[[np.ndarray], np.ndarray]:
    """The NumPy form of one activation."""
    a, b = np.float32(alpha), np.float32(beta)
    fns: dict[str, Callable[[np.ndarray], np.ndarray]] = {
        "Relu": lambda x: np.maximum(x, 0),
        "Tanh": np.tanh,
        "Sigmoid": lambda x: 1 / (1 + np.exp(-x)),
        "Affine": lambda x: a * x + b,
        "LeakyRelu": lambda x: np.where(x >= 0, x, a * x),
        "ThresholdedRelu": lambda x: np.where(x > a, x, 0),
        "ScaledTanh": lambda x: a * np.tanh(b * x),
        "HardSigmoid": lambda x: np.clip(a * x + b, 0, 1),
        "Elu": lambda x: np.where(x >= 0, x, a * (np.exp(x) - 1)),
        "Softsign": lambda x: x / (1 + np.abs(x)),
        "Softplus": lambda x: np.logaddexp(0, x),
    }
    return fns[name]


def dims(op_name: str, attrs, x, weights) -> tuple[int, int, int, int, int]:
    """(seq_len, batch, input_size, hidden_size, directions), checking every shape."""
    gates = CELLS[op_name][0]
    x = tuple(x)
    if len(x) != 3:
        raise ValueError(f"X must be 3-D, got {list(x)}")
    seq, batch, inp = (x[1], x[0], x[2]) if attrs["layout"] else x
    nd = directions(attrs)
    if "W" not in weights or "R" not in weights:
        raise ValueError("W and R are required")
    w, r = tuple(weights["W"]), tuple(weights["R"])
    hidden = int(attrs["hidden_size"]) or (r[-1] if r else 0)
    want = {
        "W": (nd, gates * hidden, inp),
        "R": (nd, gates * hidden, hidden),
        "B": (nd, 2 * gates * hidden),
        "sequence_lens": (batch,),
        "initial_h": (batch, nd, hidden) if attrs["layout"] else (nd, batch, hidden),
        "initial_c": (batch, nd, hidden) if attrs["layout"] else (nd, batch, hidden),
        "P": (nd, 3 * hidden),
    }
    for role in ROLES[op_name]:
        if role in weights and tuple(weights[role]) != want[role]:
            raise ValueError(f"{role} has shape {list(weights[role])}, expected "
                             f"{list(want[role])} (hidden_size {hidden}, {nd} direction(s), "
                             f"layout {attrs['layout']})")
    del w
    return seq, batch, inp, hidden, nd


def out_shapes(op_name: str, attrs, x, weights, n_state: int) -> list[tuple[int, ...]]:
    seq, batch, _, hidden, nd = dims(op_name, attrs, x, weights)
    if attrs["layout"]:
        y, state = (batch, seq, nd, hidden), (batch, nd, hidden)
    else:
        y, state = (seq, nd, batch, hidden), (nd, batch, hidden)
    return ([y] + [state] * n_state)[:int(attrs["num_outputs"])]


def run(op_name: str, attrs, inputs, weights, step, n_state: int) -> list[np.ndarray]:
    """The time loop shared by the references: per direction, the cell ``step(x_t, states,
    d, acts) -> states`` over the time steps (reversed for the reverse direction), holding a
    batch entry's state and writing zeros to Y past its ``sequence_lens``."""
    x = inputs[0]
    shapes = {k: np.shape(v) for k, v in weights.items()}
    seq, batch, _, hidden, nd = dims(op_name, attrs, x.shape, shapes)
    dt = x.dtype
    if attrs["layout"]:
        x = np.swapaxes(x, 0, 1)
    lens = weights.get("sequence_lens")
    lens = np.full(batch, seq, np.int64) if lens is None else np.asarray(lens, np.int64)
    init = []
    for role in ("initial_h", "initial_c")[:n_state]:
        v = weights.get(role)
        v = np.zeros((nd, batch, hidden), dt) if v is None else np.asarray(v, dt)
        init.append(np.swapaxes(v, 0, 1) if attrs["layout"] else v)
    acts = activation_lists(op_name, attrs)
    y = np.zeros((seq, nd, batch, hidden), dt)
    finals = [np.zeros((nd, batch, hidden), dt) for _ in range(n_state)]
    for d in range(nd):
        reverse = attrs["direction"] == "reverse" or d == 1
        states = [s[d] for s in init]
        for t in (range(seq - 1, -1, -1) if reverse else range(seq)):
            new = step(x[t], states, d, acts[d])
            live = (t < lens)[:, None]
            states = [np.where(live, n, s).astype(dt) for n, s in zip(new, states, strict=True)]
            y[t, d] = np.where(live, new[0], 0)
        for i, s in enumerate(states):
            finals[i][d] = s
    if attrs["layout"]:
        y = y.transpose(2, 0, 1, 3)
        finals = [np.swapaxes(f, 0, 1) for f in finals]
    outs = [np.ascontiguousarray(y)] + [np.ascontiguousarray(f) for f in finals]
    return outs[:int(attrs["num_outputs"])]


def _clip(attrs, v: np.ndarray) -> np.ndarray:
    c = float(attrs["clip"])
    return np.clip(v, -c, c) if c > 0 else v


def _common_attrs(op_name: str) -> dict[str, Attr]:
    n_out = 3 if op_name == "LSTM" else 2
    return {
        "direction": Attr("str", "forward", "forward, reverse or bidirectional (Y stacks "
                          "forward then reverse)", choices=DIRECTIONS),
        "hidden_size": Attr("int", 0, "hidden units (0: R's last dim)"),
        "activations": Attr("strs", [], f"{len(CELLS[op_name][1])} per direction, ONNX names "
                            f"([]: {', '.join(CELLS[op_name][1])}; one direction's list "
                            "serves both)"),
        "activation_alpha": Attr("floats", [], "alpha of the activations that take one, in "
                                 "order ([] or too few: their defaults)"),
        "activation_beta": Attr("floats", [], "beta of the activations that take one, in "
                                "order"),
        "clip": Attr("float", 0.0, "clips the gates' pre-activations to [-clip, clip] "
                     "(0: no clipping)"),
        "layout": Attr("int", 0, "0: X [seq, batch, in], Y [seq, dirs, batch, hidden], states "
                       "[dirs, batch, hidden]; 1: batch first (X [batch, seq, in], Y [batch, "
                       "seq, dirs, hidden], states [batch, dirs, hidden])", choices=(0, 1)),
        "num_outputs": Attr("int", n_out, "outputs computed: Y, Y_h" +
                            (", Y_c" if op_name == "LSTM" else "") + f" (1..{n_out})",
                            choices=tuple(range(1, n_out + 1))),
    }


def _with_common(extra: str = "") -> Callable[[type], type]:
    """Fill the ``{common}`` part of an op's docstring (before ``@op`` reads it)."""

    def deco(cls: type) -> type:
        cls.__doc__ = (cls.__doc__ or "").replace(
            "{common}", _DOC_COMMON.format(extra=extra).strip())
        return cls

    return deco


def _weights(op_name: str) -> dict[str, bool]:
    return {r: r in ("W", "R") for r in ROLES[op_name]}


_DOC_COMMON = """
    Inputs: ``X``; weights ``W`` ``[dirs, gates * hidden, input]``, ``R`` ``[dirs, gates *
    hidden, hidden]``, optional ``B`` ``[dirs, 2 * gates * hidden]`` (input biases ``Wb``
    then recurrent biases ``Rb``), ``sequence_lens`` ``[batch]`` (int; a batch entry's state
    stops changing after its length and Y is 0 there; a reverse direction starts at its last
    valid step), ``initial_h``{extra}. Any of them may be bound to inputs (ONNX
    passes them as inputs) in that order, ``weight_inputs`` naming them when one is
    skipped. ``clip`` bounds the gate pre-activations (peephole terms included, as
    onnxruntime does) before the activations. ``num_outputs`` says how many outputs are computed."""


@op("RNN", inputs=["X"], outputs=["Y", "Y_h"], attrs=_common_attrs("RNN"),
    weights=_weights("RNN"), weight_inputs=ROLES["RNN"])
@_with_common()
class RNN:
    """Simple recurrent network, ONNX's ``RNN``: ``H_t = f(X_t W^T + H_{t-1} R^T + Wb + Rb)``
    per direction, ``f`` Tanh by default.

    {common}

    Equivalents: ONNX ``RNN``; PyTorch ``nn.RNN`` (tanh or relu, constant weights,
    no sequence_lens) or the explicit loop; TensorFlow ``keras.layers.SimpleRNN``; Caffe
    ``RNN`` (different layout).
    """

    @staticmethod
    def num_outputs(attrs):
        return int(attrs["num_outputs"])

    @staticmethod
    def infer(attrs, shapes, weights):
        return out_shapes("RNN", attrs, shapes[0], weights, 1)

    @staticmethod
    def reference(attrs, inputs, weights):
        w, r = weights["W"], weights["R"]
        b = weights.get("B")
        hidden = w.shape[1]

        def step(xt, states, d, acts):
            (f,) = [np_activation(*a) for a in acts]
            pre = xt @ w[d].T + states[0] @ r[d].T
            if b is not None:
                pre = pre + b[d, :hidden] + b[d, hidden:]
            return [f(_clip(attrs, pre))]

        return run("RNN", attrs, inputs, weights, step, 1)


@op("GRU", inputs=["X"], outputs=["Y", "Y_h"], attrs={
    **_common_attrs("GRU"),
    "linear_before_reset": Attr("bool", False, "apply the reset gate after the recurrent "
                                "product (h = g(X Wh + r * (H Rh + Rbh) + Wbh))"),
}, weights=_weights("GRU"), weight_inputs=ROLES["GRU"])
@_with_common()
class GRU:
    """Gated recurrent unit, ONNX's ``GRU`` (gates z, r, h), ``f`` Sigmoid and ``g`` Tanh by
    default.

    Per direction::

        z = f(X_t Wz^T + H Rz^T + Wbz + Rbz)
        r = f(X_t Wr^T + H Rr^T + Wbr + Rbr)
        h = g(X_t Wh^T + (r * H) Rh^T + Rbh + Wbh)      linear_before_reset false
        h = g(X_t Wh^T + r * (H Rh^T + Rbh) + Wbh)      linear_before_reset true
        H_t = (1 - z) * h + z * H

    {common}

    Equivalents: ONNX ``GRU``; PyTorch ``nn.GRU`` (linear_before_reset true, default
    activations, constant weights reordered r, z, n) or the explicit loop; TensorFlow
    ``keras.layers.GRU`` (``reset_after`` = linear_before_reset); Caffe has none.
    """

    @staticmethod
    def num_outputs(attrs):
        return int(attrs["num_outputs"])

    @staticmethod
    def infer(attrs, shapes, weights):
        return out_shapes("GRU", attrs, shapes[0], weights, 1)

    @staticmethod
    def reference(attrs, inputs, weights):
        w, r_w = weights["W"], weights["R"]
        hs = w.shape[1] // 3
        b = weights.get("B")
        b = np.zeros((w.shape[0], 6 * hs), w.dtype) if b is None else b

        def step(xt, states, d, acts):
            f, g = (np_activation(*a) for a in acts)
            h = states[0]
            xw = xt @ w[d].T + b[d, :3 * hs]
            hr = h @ r_w[d, :2 * hs].T + b[d, 3 * hs:5 * hs]
            z = f(_clip(attrs, xw[:, :hs] + hr[:, :hs]))
            r = f(_clip(attrs, xw[:, hs:2 * hs] + hr[:, hs:]))
            rh, rbh = r_w[d, 2 * hs:], b[d, 5 * hs:]
            if attrs["linear_before_reset"]:
                pre = xw[:, 2 * hs:] + r * (h @ rh.T + rbh)
            else:
                pre = xw[:, 2 * hs:] + (r * h) @ rh.T + rbh
            n = g(_clip(attrs, pre))
            return [(1 - z) * n + z * h]

        return run("GRU", attrs, inputs, weights, step, 1)


@op("LSTM", inputs=["X"], outputs=["Y", "Y_h", "Y_c"], attrs={
    **_common_attrs("LSTM"),
    "input_forget": Attr("bool", False, "couple the input and forget gates: f = 1 - i"),
}, weights=_weights("LSTM"), weight_inputs=ROLES["LSTM"])
@_with_common(", ``initial_c``, ``P``")
class LSTM:
    """Long short-term memory, ONNX's ``LSTM`` (gates i, o, f, c), ``f`` Sigmoid, ``g`` and
    ``h`` Tanh by default.

    Per direction::

        i = f(X_t Wi^T + H Ri^T + Wbi + Rbi + Pi * C)
        f = f(X_t Wf^T + H Rf^T + Wbf + Rbf + Pf * C)      (1 - i with input_forget)
        c = g(X_t Wc^T + H Rc^T + Wbc + Rbc)
        C_t = f * C + i * c
        o = f(X_t Wo^T + H Ro^T + Wbo + Rbo + Po * C_t)
        H_t = o * h(C_t)

    ``P`` ``[dirs, 3 * hidden]`` holds the peepholes ``Pi, Po, Pf``; ``initial_c`` is shaped
    like ``initial_h``.

    {common}

    Equivalents: ONNX ``LSTM``; PyTorch ``nn.LSTM`` (default activations, no peepholes,
    clip, input_forget or sequence_lens; constant weights reordered i, f, g, o) or the
    explicit loop; TensorFlow ``keras.layers.LSTM`` (gates i, f, c, o); Caffe ``LSTM``.
    """

    @staticmethod
    def num_outputs(attrs):
        return int(attrs["num_outputs"])

    @staticmethod
    def infer(attrs, shapes, weights):
        return out_shapes("LSTM", attrs, shapes[0], weights, 2)

    @staticmethod
    def reference(attrs, inputs, weights):
        w, r_w = weights["W"], weights["R"]
        hs = w.shape[1] // 4
        b, p = weights.get("B"), weights.get("P")

        def step(xt, states, d, acts):
            f, g, hf = (np_activation(*a) for a in acts)
            h, c = states
            pre = xt @ w[d].T + h @ r_w[d].T
            if b is not None:
                pre = pre + b[d, :4 * hs] + b[d, 4 * hs:]
            gi, go, gf, gc = (pre[:, k * hs:(k + 1) * hs] for k in range(4))
            if p is not None:
                gi = gi + p[d, :hs] * c
                gf = gf + p[d, 2 * hs:] * c
            gi, gf, gc = (_clip(attrs, v) for v in (gi, gf, gc))
            i = f(gi)
            fg = 1 - i if attrs["input_forget"] else f(gf)
            c_new = fg * c + i * g(gc)
            if p is not None:
                go = go + p[d, hs:2 * hs] * c_new
            o = f(_clip(attrs, go))
            return [o * hf(c_new), c_new]

        return run("LSTM", attrs, inputs, weights, step, 2)


