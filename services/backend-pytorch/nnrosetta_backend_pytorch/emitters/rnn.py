"""RNN, GRU and LSTM as an explicit loop over the time steps with ONNX's gate equations.

The code keeps ONNX's weight layout and gate order (W and R ``[dirs, gates * hidden, ...]``,
gates i / z r h / i o f c as row blocks), so weights computed at run time and stored ones are
used the same way: stored weights are ``nn.Parameter`` s holding the ONNX tensors unchanged
(no reordering into ``nn.LSTM`` 's i f g o or ``nn.GRU`` 's r z n). Per direction the input
projection of every time step is one matmul before the loop; the loop adds the recurrent
product and applies the activations. ``sequence_lens`` holds a batch entry's state after its
length (``torch.where``) and writes zeros to Y there. The result scripts to TorchScript.
"""

from __future__ import annotations

from nnrosetta.ir.ops.rnn import CELLS, ROLES, activation_lists, dims
from nnrosetta_backend_pytorch.codegen import fmt_float, wrap
from nnrosetta_backend_pytorch.emitters import emitter


def _present(c, op: str) -> dict[str, tuple[int, ...] | None]:
    """role -> shape of each weight the node has (stored or bound to an input)."""
    return {r: c.param_shape(r) for r in ROLES[op] if c.dynamic(r) or c.has_weight(r)}


def _check(op: str):
    def check(c) -> list[str]:
        x = c.in_shape(0)
        shapes = _present(c, op)
        if x is None or any(s is None for s in shapes.values()):
            return ["the input and weight shapes must be known (the loop is unrolled per "
                    "direction from them)"]
        try:
            dims(op, c.attrs, x, shapes)
            activation_lists(op, c.attrs)
        except ValueError as e:
            return [str(e)]
        return []
    return check


def act(name: str, alpha: float, beta: float, v: str) -> str:
    """The PyTorch expression of ONNX activation ``name`` applied to ``v`` (a name or a
    call: the generated code never groups with parentheses, which line wrapping could turn
    into tuples)."""
    a, b = fmt_float(alpha), fmt_float(beta)
    return {
        "Relu": f"torch.relu({v})",
        "Tanh": f"torch.tanh({v})",
        "Sigmoid": f"torch.sigmoid({v})",
        "Affine": f"{a} * {v} + {b}",
        "LeakyRelu": f"F.leaky_relu({v}, {a})",
        "ThresholdedRelu": f"F.threshold({v}, {a}, 0.0)",
        "ScaledTanh": f"{a} * torch.tanh({b} * {v})",
        "HardSigmoid": f"torch.clamp({a} * {v} + {b}, 0.0, 1.0)",
        "Elu": f"F.elu({v}, {a})",
        "Softsign": f"F.softsign({v})",
        "Softplus": f"F.softplus({v})",
    }[name]


class _Loop:
    """Names and shared lines of one recurrent node."""

    def __init__(self, e, op: str):
        self.e, self.op = e, op
        self.attrs = e.attrs
        shapes = _present(e, op)
        self.seq, self.batch, _, self.hidden, self.nd = dims(op, self.attrs, e.in_shape(0),
                                                             shapes)
        self.gates = CELLS[op][0]
        self.acts = activation_lists(op, self.attrs)
        self.layout = int(self.attrs["layout"])
        self.clip = float(self.attrs["clip"])
        self.params = {r: self._param(r) for r in shapes}

    def tmp(self, hint: str) -> str:
        return self.e._gen.names.new(f"{self.e.ident}_{hint}")

    def _param(self, role: str) -> str:
        e = self.e
        if role == "sequence_lens" and not e.dynamic(role):
            return e.buffer(e.weight(role), "sequence_lens")
        return e.param(role)

    def clipped(self, v: str) -> str:
        if self.clip <= 0:
            return v
        c = fmt_float(self.clip)
        return f"torch.clamp({v}, -{c}, {c})"

    def state(self, role: str, d: int, hint: str) -> str:
        """The initial state of direction d (zeros when the node has no such input)."""
        name = self.tmp(hint)
        if role in self.params:
            axis = "[:, " if self.layout else "["
            self.e.assign(f"{self.params[role]}{axis}{d}]", out=name)
        else:
            self.e.assign(f"{self.x}.new_zeros([{self.batch}, {self.hidden}])", out=name)
        return name


def _emit(e, op: str) -> None:
    L = _Loop(e, op)
    H, G = L.hidden, L.gates
    order = ", ".join(CELLS[op][2])
    e.line(f"# {op}, ONNX gate order {order} (row blocks of W, R, B); "
           f"{L.nd} direction(s), hidden {H}")
    x = e.x
    if L.layout:
        x = L.tmp("x")
        e.line("# batch first to time first")
        e.assign(f"{e.x}.transpose(0, 1)", out=x)
    L.x = x
    p = L.params
    n_state = 2 if op == "LSTM" else 1
    want_y = e.used(0) or len(e.outs) == 1
    ys, finals = [], [[] for _ in range(n_state)]
    for d in range(L.nd):
        reverse = L.attrs["direction"] == "reverse" or d == 1
        e.line(f"# direction {d}: {'reverse' if reverse else 'forward'}")
        xw = L.tmp(f"xw{d}" if L.nd > 1 else "xw")
        bias = f" + {p['B']}[{d}, :{G * H}]" if "B" in p else ""
        e.line("# the input projection of every time step, then the recurrent weights")
        e.assign(f"torch.matmul({x}, {p['W']}[{d}].t()){bias}", out=xw)
        r = L.tmp(f"rw{d}" if L.nd > 1 else "rw")
        e.assign(f"{p['R']}[{d}].t()", out=r)
        rb = f" + {p['B']}[{d}, {G * H}:]" if "B" in p else ""
        sfx = str(d) if L.nd > 1 else ""
        h = L.state("initial_h", d, f"h{sfx}")
        c = L.state("initial_c", d, f"c{sfx}") if op == "LSTM" else None
        y = L.tmp(f"y{sfx}")
        if want_y:
            e.assign("[]", out=y)
        t = L.tmp("t")
        steps = f"range({L.seq} - 1, -1, -1)" if reverse else f"range({L.seq})"
        e.line(f"for {t} in {steps}:")
        body = _cell(L, op, d, xw, r, rb, h, c, t)
        if "sequence_lens" in p:
            live = L.tmp("live")
            body.append("# past its length a batch entry keeps its state and outputs zeros")
            body.append(f"{live} = torch.gt({p['sequence_lens']}, {t}).unsqueeze(1)")
            new_h = L.tmp("h_new")
            new_c = L.tmp("c_new") if c is not None else ""
            body = [b.replace("__H__", new_h).replace("__C__", new_c) for b in body]
            body.append(f"{h} = torch.where({live}, {new_h}, {h})")
            if c is not None:
                body.append(f"{c} = torch.where({live}, {new_c}, {c})")
            if want_y:
                body.append(f"{y}.append(torch.where({live}, {new_h}, "
                            f"torch.zeros_like({new_h})))")
        else:
            body = [b.replace("__H__", h).replace("__C__", c or "") for b in body]
            if want_y:
                body.append(f"{y}.append({h})")
        for b in body:   # the loop body, one level deeper than e.line writes
            e._gen.forward.extend(wrap(b, "            "))
        if want_y:
            flip = ".flip(0)" if reverse else ""
            e.assign(f"torch.stack({y}){flip}", out=y)
            ys.append(y)
        finals[0].append(h)
        if c is not None:
            finals[1].append(c)
    count = len(e.outs)
    if want_y:
        expr = f"torch.stack([{', '.join(ys)}], dim=1)"
        if L.layout:
            expr += ".permute(2, 0, 1, 3)"
        e.assign(expr, out=e.outs[0])
    for i, states in enumerate(finals, start=1):
        if i < count and e.used(i):
            expr = f"torch.stack([{', '.join(states)}])"
            if L.layout:
                expr += ".transpose(0, 1)"
            e.assign(expr, out=e.outs[i])


def _cell(L: _Loop, op: str, d: int, xw: str, r: str, rb: str, h: str, c: str | None,
          t: str) -> list[str]:
    """The loop body: lines that set ``__H__`` (and ``__C__``) from ``h`` (and ``c``); each
    gate's pre-activation first, then its activation."""
    H = L.hidden
    acts = L.acts[d]
    v = {k: L.tmp(k) for k in ("pre", "hr", "gates", "z", "r", "n", "i", "o", "f")}
    clip = L.clipped
    if op == "RNN":
        return [f"{v['pre']} = {xw}[{t}] + {h} @ {r}{rb}",
                f"__H__ = {act(*acts[0], clip(v['pre']))}"]
    if op == "GRU":
        f_, g_ = acts
        hr, z, rg, n = v["hr"], v["z"], v["r"], v["n"]
        b = L.params.get("B")
        lbr = L.attrs["linear_before_reset"]
        if lbr:
            lines = [f"{hr} = {h} @ {r}{rb}"]
        else:
            lines = [f"{hr} = {h} @ {r}[:, :{2 * H}]"
                     + (f" + {b}[{d}, {3 * H}:{5 * H}]" if b else "")]
        lines += [f"{z} = {xw}[{t}, :, :{H}] + {hr}[:, :{H}]",
                  f"{z} = {act(*f_, clip(z))}",
                  f"{rg} = {xw}[{t}, :, {H}:{2 * H}] + {hr}[:, {H}:{2 * H}]",
                  f"{rg} = {act(*f_, clip(rg))}"]
        if lbr:
            lines.append("# linear_before_reset: the reset gate scales H Rh + Rbh")
            lines.append(f"{n} = {xw}[{t}, :, {2 * H}:] + {rg} * {hr}[:, {2 * H}:]")
        else:
            rbh = f" + {b}[{d}, {5 * H}:]" if b else ""
            lines.append(f"{n} = {xw}[{t}, :, {2 * H}:] + torch.matmul({rg} * {h}, "
                         f"{r}[:, {2 * H}:]){rbh}")
        lines += [f"{n} = {act(*g_, clip(n))}",
                  "# H = (1 - z) * n + z * H",
                  f"__H__ = {n} - {z} * {n} + {z} * {h}"]
        return lines
    # LSTM
    f_, g_, h_ = acts
    gates, i, o, f = v["gates"], v["i"], v["o"], v["f"]
    peep = L.params.get("P")
    lines = [f"{gates} = {xw}[{t}] + {h} @ {r}{rb}"]

    def block(k: int) -> str:
        return f"{gates}[:, {k * H}:{(k + 1) * H}]"

    lines.append(f"{i} = {block(0)}" + (f" + {peep}[{d}, :{H}] * {c}" if peep else ""))
    lines.append(f"{i} = {act(*f_, clip(i))}")
    if L.attrs["input_forget"]:
        lines.append("# input_forget: coupled input and forget gates")
        lines.append(f"{f} = 1 - {i}")
    else:
        lines.append(f"{f} = {block(2)}" + (f" + {peep}[{d}, {2 * H}:] * {c}" if peep else ""))
        lines.append(f"{f} = {act(*f_, clip(f))}")
    lines.append(f"__C__ = {f} * {c} + {i} * {act(*g_, clip(block(3)))}")
    lines.append(f"{o} = {block(1)}" + (f" + {peep}[{d}, {H}:{2 * H}] * __C__" if peep else ""))
    lines.append(f"{o} = {act(*f_, clip(o))}")
    lines.append(f"__H__ = {o} * {act(*h_, '__C__')}")
    return lines


@emitter("RNN", check=_check("RNN"))
def emit_rnn(e) -> None:
    _emit(e, "RNN")


@emitter("GRU", check=_check("GRU"))
def emit_gru(e) -> None:
    _emit(e, "GRU")


@emitter("LSTM", check=_check("LSTM"))
def emit_lstm(e) -> None:
    _emit(e, "LSTM")
