"""What a Keras layer importer is: a pure function ``(call, ctx) -> Out`` for one Keras layer
class (or Keras 3 operation), registered with ``@layer("Conv2D", ...)``.

An importer reads the layer's config (``call.config``) and weights (``call.var(...)``), asks
the context for its inputs in the layout it needs (``ctx.input(i)``, ``ctx.channels_first(i,
data_format)``, ``ctx.source_layout(i)``; the context inserts a Transpose only where the
tensor is held in another layout) and returns IR nodes made with ``ctx.node``, their weights
(lazy ``Tensor``s, read from the Keras variables only when streamed) and, per layer output,
an ``OutVal``: the IR ref and how it relates to the Keras tensor (``perm``: IR =
source.transpose(perm)). Problems are raised as ``LayerIssue`` / ``Unsupported``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
import numpy as np

from nnrosetta.ir.graph import Node


class LayerIssue(Exception):
    """A problem with one layer; becomes an Issue located at the layer."""

    def __init__(self, code: str, message: str,
                 status: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class Unsupported(LayerIssue):
    """A layer setting the frontend cannot express in the IR."""

    def __init__(self, message: str, code: str = "UNSUPPORTED_ATTRIBUTE"):
        super().__init__(code, message, grpc.StatusCode.UNIMPLEMENTED)


@dataclass
class Tensor:
    """A weight: its shape now, its data on demand (``load``), so that the converter holds
    no copy of the model's weights beyond the one being streamed."""

    shape: tuple[int, ...]
    load: Callable[[], np.ndarray]
    dtype: str = "float32"

    @staticmethod
    def of(arr: np.ndarray) -> Tensor:
        arr = np.asarray(arr)
        return Tensor(tuple(int(d) for d in arr.shape), lambda: arr, arr.dtype.name)

    def map(self, fn: Callable[[np.ndarray], np.ndarray],
            shape: Sequence[int] | None = None) -> Tensor:
        src = self.load
        return Tensor(tuple(int(d) for d in (shape if shape is not None else self.shape)),
                      lambda: fn(src()), self.dtype)


@dataclass
class OutVal:
    """One layer output in the IR: ``ref``; ``perm`` = how the IR tensor relates to the
    Keras tensor (IR = source.transpose(perm), None = same layout); ``features``: for a
    rank-2 tensor whose features are a known permutation of the Keras tensor's (Flatten of a
    channels-first tensor that only Dense layers read), IR[:, j] = source[:, features[j]]."""

    ref: str
    perm: tuple[int, ...] | None = None
    features: np.ndarray | None = None


@dataclass
class Out:
    nodes: list[Node] = field(default_factory=list)
    weights: dict[str, Tensor] = field(default_factory=dict)    # "<node>.<role>" -> Tensor
    outputs: list[OutVal] = field(default_factory=list)         # per Keras output


@dataclass
class LayerCall:
    """One call of a Keras layer in the model's graph, as importers see it."""

    layer: Any                      # the Keras layer / operation object
    key: str                        # registry key: class name, "ops.<Class>"
    name: str                       # source name (layer name; "outer/inner" when nested)
    config: dict[str, Any]
    n_inputs: int
    args: tuple = ()                # the call's arguments (symbolic tensors in place)
    kwargs: dict = field(default_factory=dict)

    def cfg(self, key: str, default: Any = None) -> Any:
        return self.config.get(key, default)

    @property
    def label(self) -> str:
        return f"{self.key} layer {self.name!r}"


ImporterFn = Callable[[LayerCall, Any], Out]


@dataclass(frozen=True)
class Importer:
    key: str
    fn: ImporterFn
    ir_ops: tuple[str, ...]         # IR ops it may emit (Describe lists it when all exist)
    doc: str = ""


LAYERS: dict[str, Importer] = {}


def layer(*keys: str, ir_ops: Sequence[str] = ()) -> Callable[[ImporterFn], ImporterFn]:
    """Register the importer of Keras layer classes ``keys``; a second importer for one
    class is refused."""

    def deco(fn: ImporterFn) -> ImporterFn:
        doc = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else ""
        for k in keys:
            if k in LAYERS:
                raise ValueError(f"Keras layer {k!r} has two importers")
            LAYERS[k] = Importer(k, fn, tuple(ir_ops), doc)
        return fn

    return deco


# -- helpers shared by importers --------------------------------------------------------------

def layer_config(obj: Any) -> dict:
    """A layer's (or operation's) ``get_config()``; {} for one without a config."""
    try:
        cfg = obj.get_config()
    except Exception:  # noqa: BLE001 - operations without a config
        cfg = {}
    return cfg if isinstance(cfg, dict) else {}


def tuple_of(v: Any, n: int, what: str, call: LayerCall) -> list[int]:
    """An int or a tuple of ints (Keras' kernel_size, strides, ...) as n ints."""
    if isinstance(v, (int, np.integer)):
        return [int(v)] * n
    try:
        vals = [int(x) for x in v]
    except TypeError as e:
        raise LayerIssue("BAD_CONFIG", f"{call.label}: {what} {v!r} is not a number or a "
                         "tuple of numbers") from e
    if len(vals) == 1 and n > 1:
        vals = vals * n
    if len(vals) != n:
        raise LayerIssue("BAD_CONFIG", f"{call.label}: {what} {vals} has {len(vals)} values "
                         f"for {n} axes")
    return vals


def same_pads(sizes: Sequence[int], k: Sequence[int], s: Sequence[int],
              d: Sequence[int]) -> list[int]:
    """TensorFlow's 'same' padding: output ceil(in / stride), the odd pixel at the end."""
    begin, end = [], []
    for n, kk, ss, dd in zip(sizes, k, s, d, strict=True):
        out = -(-n // ss)
        total = max((out - 1) * ss + (kk - 1) * dd + 1 - n, 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return begin + end


def window_pads(call: LayerCall, padding: str, sizes: Sequence[int], k: Sequence[int],
                s: Sequence[int], d: Sequence[int]) -> list[int]:
    """IR pads for Keras' padding 'valid' / 'same' / 'causal' (1-D)."""
    padding = str(padding).lower()
    n = len(sizes)
    if padding == "valid":
        return [0] * (2 * n)
    if padding == "same":
        return same_pads(sizes, k, s, d)
    if padding == "causal" and n == 1:
        return [(k[0] - 1) * d[0], 0]
    raise Unsupported(f"{call.label}: padding {padding!r} is not supported")


def float_weight(call: LayerCall, owner: Any, *names: str):
    """``owner``'s weight (the first of ``names`` it has), which must be a float one: missing
    is MISSING_WEIGHT, a quantized (integer) one is refused."""
    from nnrosetta_frontend_tf import compat

    v = compat.weight(owner, *names)
    if v is None:
        raise LayerIssue("MISSING_WEIGHT", f"{call.label} has no {names[0]} weight (was it "
                         "built?)")
    dt = getattr(v, "dtype", "float32")
    dt = str(getattr(dt, "name", dt))
    if "float" not in dt:
        raise Unsupported(f"{call.label}: {names[0]} has dtype {dt} (a quantized layer); only "
                          "float weights can be converted")
    return v


def activation_name(call: LayerCall, key: str = "activation") -> str:
    """The name of a layer's activation config ('linear' when none)."""
    a = call.cfg(key, "linear")
    if a is None:
        return "linear"
    if isinstance(a, str):
        return a.rsplit(".", 1)[-1]
    if isinstance(a, dict):
        cfg = a.get("config")
        if a.get("class_name") in ("function", "builtins.function") and isinstance(cfg, str):
            return cfg
        if isinstance(a.get("class_name"), str) and not cfg:
            return a["class_name"]
    raise Unsupported(f"{call.label}: activation {a!r} is not a built-in Keras activation",
                      "UNSUPPORTED_ACTIVATION")


def inverse(perm: Sequence[int]) -> tuple[int, ...]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def channels_first_perm(rank: int) -> tuple[int, ...]:
    """NHWC -> NCHW (and NWC -> NCW, NDHWC -> NCDHW)."""
    return (0, rank - 1, *range(1, rank - 1))


def src_axis(call: LayerCall, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise LayerIssue("BAD_CONFIG", f"{call.label}: axis {axis} out of range for rank {rank}")
    return axis % rank
