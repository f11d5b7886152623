"""Activations -> Keras layers where one computes the IR op exactly (ReLU, ReLU(max_value=6)
for relu6, LeakyReLU, ELU, PReLU, Activation("sigmoid"), ...), else keras.ops. Elementwise: the
output keeps the input's layout."""

import numpy as np

from nnrosetta_backend_tf.codegen import Code, fmt_float
from nnrosetta_backend_tf.emitters import emitter


def _layer(e, cls: str, *args, **kwargs) -> None:
    e.assign(f"{e.layer(cls, *args, **kwargs)}({e.x})", e.layout())


def _expr(e, expr: str) -> None:
    e.assign(expr, e.layout())


@emitter("Relu")
def relu(e) -> None:
    """Relu -> ``layers.ReLU()``."""
    _layer(e, "layers.ReLU")


def _bound(e, role: str, default: float) -> float:
    w = e.weight(role)
    if w is not None:
        return float(np.asarray(w).reshape(-1)[0])
    return float(e.attr(role, default))


def check_clip(c) -> list[str]:
    return [f"weight {r!r} must hold one value" for r in ("min", "max")
            if c.weight_shape(r) is not None and int(np.prod(c.weight_shape(r))) != 1]


@emitter("Clip", check=check_clip)
def clip(e) -> None:
    """Clip -> ``layers.ReLU(max_value=m)`` for [0, m] (relu6), else ``ops.clip``."""
    lo, hi = _bound(e, "min", -np.inf), _bound(e, "max", np.inf)
    if lo == 0.0 and hi >= 0.0:
        if np.isinf(hi):
            _layer(e, "layers.ReLU")
        else:
            _layer(e, "layers.ReLU", max_value=hi)   # ReLU6 when max is 6
        return
    if lo > hi:   # the IR gives max everywhere
        _expr(e, f"{e.op('full_like', Code(e.x), hi)}")
        return
    _expr(e, e.op("clip", Code(e.x), lo, hi))


@emitter("LeakyRelu")
def leaky_relu(e) -> None:
    """LeakyRelu -> ``layers.LeakyReLU(negative_slope)``."""
    _layer(e, "layers.LeakyReLU", negative_slope=float(e.attr("alpha", 0.01)))


@emitter("Elu")
def elu(e) -> None:
    """Elu -> ``layers.ELU(alpha)``."""
    _layer(e, "layers.ELU", alpha=float(e.attr("alpha", 1.0)))


ACTIVATIONS = {"Sigmoid": "sigmoid", "Tanh": "tanh", "Softplus": "softplus",
               "Softsign": "softsign", "Mish": "mish", "HardSwish": "hard_silu"}


@emitter(*ACTIVATIONS, describe=lambda op: f'``layers.Activation("{ACTIVATIONS[op]}")``')
def activation(e) -> None:
    """Sigmoid, Tanh, Softplus, Softsign, Mish, HardSwish -> ``layers.Activation(name)``."""
    _layer(e, "layers.Activation", ACTIVATIONS[e.op_type])


@emitter("Gelu")
def gelu(e) -> None:
    """Gelu -> ``layers.Activation("gelu")`` (``ops.gelu(approximate=True)`` for tanh)."""
    if e.attr("approximate", "none") == "tanh":
        _expr(e, e.op("gelu", Code(e.x), approximate=True))
    else:
        _layer(e, "layers.Activation", "gelu")


@emitter("Swish")
def swish(e) -> None:
    """Swish -> ``layers.Activation("silu")`` (alpha != 1: ``x * ops.sigmoid(alpha * x)``)."""
    alpha = float(e.attr("alpha", 1.0))
    if alpha == 1.0:
        _layer(e, "layers.Activation", "silu")
    else:
        _expr(e, f"{e.x} * {e.op('sigmoid', Code(f'{fmt_float(alpha)} * {e.x}'))}")


@emitter("HardSigmoid")
def hard_sigmoid(e) -> None:
    """HardSigmoid -> ``layers.Activation("hard_sigmoid")`` (alpha 1/6, beta 0.5), else
    ``ops.clip``."""
    alpha, beta = float(e.attr("alpha", 0.2)), float(e.attr("beta", 0.5))
    if np.float32(alpha) == np.float32(1 / 6) and beta == 0.5:
        _layer(e, "layers.Activation", "hard_sigmoid")   # relu6(x + 3) / 6
    else:
        inner = Code(f"{fmt_float(alpha)} * {e.x} + {fmt_float(beta)}")
        _expr(e, e.op("clip", inner, 0.0, 1.0))


@emitter("Selu")
def selu(e) -> None:
    """Selu -> ``layers.Activation("selu")`` (other constants: keras.ops)."""
    alpha, gamma = float(e.attr("alpha", 1.6732632)), float(e.attr("gamma", 1.0507010))
    if np.float32(alpha) == np.float32(1.6732632423543772) and \
            np.float32(gamma) == np.float32(1.0507009873554805):
        _layer(e, "layers.Activation", "selu")
    else:
        neg = f"{fmt_float(alpha)} * ({e.op('exp', Code(e.x))} - 1.0)"
        _expr(e, f"{fmt_float(gamma)} * {e.op('where', Code(f'{e.x} > 0'), Code(e.x), Code(neg))}")


@emitter("Celu")
def celu(e) -> None:
    """Celu -> ``ops.celu``."""
    _expr(e, e.op("celu", Code(e.x), alpha=float(e.attr("alpha", 1.0))))


@emitter("ThresholdedRelu")
def thresholded_relu(e) -> None:
    """ThresholdedRelu -> ``ops.where(x > alpha, x, 0)``."""
    alpha = fmt_float(e.attr("alpha", 1.0))
    _expr(e, e.op("where", Code(f"{e.x} > {alpha}"), Code(e.x), 0.0))


def prelu_alpha(slope: np.ndarray, in_shape, layout) -> tuple[np.ndarray, list[int]]:
    """The IR slope as Keras PReLU's alpha (the input's shape without the batch, 1 on shared
    axes) and its shared_axes (1-based)."""
    rank = len(in_shape)
    if slope.ndim == 1 and rank >= 2:      # [C] (or [1]): one per channel, axis 1
        shape = [1] * rank
        shape[1] = slope.size
        full = slope.reshape(shape)
    else:                                  # NumPy broadcast from the right
        full = slope.reshape([1] * (rank - slope.ndim) + list(slope.shape))
    alpha = np.transpose(full, layout.perm)[0]
    kshape = layout.keras_shape(in_shape)[1:]
    shared = [a + 1 for a in range(rank - 1) if alpha.shape[a] == 1 and kshape[a] != 1]
    return alpha.astype(np.float32), shared


def check_prelu(c) -> list[str]:
    s, x = c.weight_shape("slope"), c.in_shape()
    if s is None or x is None:
        return []
    if len(s) >= len(x) and any(d != 1 for d in s[:len(s) - len(x) + 1]):
        return [f"slope {list(s)} varies along the batch axis"]
    return []


@emitter("PRelu", check=check_prelu)
def prelu(e) -> None:
    """PRelu -> ``layers.PReLU(shared_axes)``, the slope laid out channels-last."""
    lay = e.layout()
    alpha, shared = prelu_alpha(e.weight("slope"), e.in_shape(), lay)
    kwargs = {"shared_axes": shared} if shared else {}
    layer = e.layer("layers.PReLU", **kwargs, weights=[alpha])
    e.assign(f"{layer}({e.x})", lay)
