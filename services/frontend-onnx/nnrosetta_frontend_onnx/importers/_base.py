"""What an importer is: a pure function ``(node, ctx) -> Out`` for one ONNX op type over an
opset range.

An importer reads its ONNX node (``ONode``: op type, inputs, outputs, typed attributes) and
asks the context (``ImportContext`` in ``convert.py``) for the IR refs, shapes and constant
values of its inputs; it returns IR nodes, weight tensors and, per ONNX output, an IR ref or a
constant. Problems are raised as ``NodeIssue`` / ``Unsupported``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc
import numpy as np

from nnrosetta.ir.graph import Node

INT_MAX = 2**63 - 1


class NodeIssue(Exception):
    """A problem with one node; becomes an Issue located at the node."""

    def __init__(self, code: str, message: str,
                 status: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class Unsupported(NodeIssue):
    """A node (or one of its settings) the frontend cannot express in the IR."""

    def __init__(self, message: str, code: str = "UNSUPPORTED_ATTRIBUTE"):
        super().__init__(code, message, grpc.StatusCode.UNIMPLEMENTED)


@dataclass
class Tensor:
    """A constant: its shape and dtype now, its data on demand (``load``)."""

    shape: tuple[int, ...]
    load: Callable[[], np.ndarray]
    dtype: str = "float32"

    @staticmethod
    def of(arr: np.ndarray) -> Tensor:
        arr = np.asarray(arr)
        return Tensor(tuple(int(d) for d in arr.shape), lambda: arr, arr.dtype.name)

    def map(self, fn: Callable[[np.ndarray], np.ndarray],
            shape: Sequence[int] | None = None, dtype: str | None = None) -> Tensor:
        src = self.load
        return Tensor(tuple(int(d) for d in (shape if shape is not None else self.shape)),
                      lambda: fn(src()), dtype or self.dtype)


@dataclass
class ONode:
    """One ONNX node as importers see it."""

    name: str                      # the IR base name chosen for this node
    op_type: str
    domain: str
    inputs: list[str]              # "" for an omitted optional input
    outputs: list[str]
    attrs: dict[str, Any]
    opset: int
    onnx_name: str = ""

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)

    def input(self, i: int) -> str:
        """The i-th input's name, "" when absent."""
        return self.inputs[i] if i < len(self.inputs) else ""

    @property
    def label(self) -> str:
        return f"{self.op_type} node {self.onnx_name or self.outputs[0]!r}"


@dataclass
class Out:
    nodes: list[Node] = field(default_factory=list)
    weights: dict[str, Tensor] = field(default_factory=dict)   # tensor name -> Tensor
    # per ONNX output: an IR ref, a constant (np.ndarray), or None (unused output);
    # default: the outputs of the last node, in order
    outputs: list[str | np.ndarray | None] | None = None


class Context(Protocol):
    opset: int

    def has(self, name: str) -> bool: ...

    def is_const(self, name: str) -> bool: ...

    def const(self, name: str, what: str = "") -> np.ndarray: ...

    def tensor(self, name: str, what: str = "") -> Tensor: ...

    def ref(self, name: str, dtype: str = "float32") -> str: ...

    def shape(self, name: str) -> tuple[int, ...] | None: ...

    def need_shape(self, node: ONode, name: str) -> tuple[int, ...]: ...

    def used(self, name: str) -> bool: ...


ImporterFn = Callable[[ONode, Context], Out]


@dataclass(frozen=True)
class Importer:
    op_type: str
    since: int                     # first opset handled
    until: int | None              # last opset handled (None: every later one)
    fn: ImporterFn
    ir_ops: tuple[str, ...]        # IR ops it may emit (Describe lists it when all exist)

    def handles(self, opset: int) -> bool:
        return self.since <= opset and (self.until is None or opset <= self.until)


IMPORTERS: dict[str, list[Importer]] = {}


def importer(*op_types: str, since: int = 1, until: int | None = None,
             ir_ops: Sequence[str] = ()) -> Callable[[ImporterFn], ImporterFn]:
    """Register the importer of ONNX op types for the opsets ``since..until``; overlapping
    ranges for one op type are refused."""

    def deco(fn: ImporterFn) -> ImporterFn:
        for t in op_types:
            for other in IMPORTERS.get(t, []):
                lo, hi = max(since, other.since), min(until or 1 << 30, other.until or 1 << 30)
                if lo <= hi:
                    raise ValueError(f"ONNX op {t!r} has two importers for opset {lo}")
            IMPORTERS.setdefault(t, []).append(Importer(t, since, until, fn, tuple(ir_ops)))
        return fn

    return deco


def node(onode: ONode, op: str, inputs: Sequence[str], suffix: str = "",
         source: str | None = None, **attrs: Any) -> Node:
    """An IR node for this ONNX node; ``suffix`` names helper nodes, ``source`` the ONNX
    tensor whose value equals this node's output (default: the node's first output)."""
    name = onode.name if not suffix else f"{onode.name}_{suffix}"
    n = Node(name, op, list(inputs), dict(attrs))
    n.attrs["_source_name"] = source if source is not None else onode.outputs[0]
    n.attrs["_source_op"] = onode.op_type
    return n


def canon_axis(axis: int, rank: int, onode: ONode) -> int:
    if not -rank <= axis < max(rank, 1):
        raise NodeIssue("BAD_ATTRIBUTE", f"{onode.label}: axis {axis} out of range for "
                        f"rank {rank}")
    return axis % rank if rank else 0


def ints(values: Any) -> list[int]:
    return [int(v) for v in np.asarray(values).reshape(-1)]


def floats_scalar(arr: np.ndarray, onode: ONode, what: str) -> float:
    a = np.asarray(arr)
    if a.size != 1:
        raise Unsupported(f"{onode.label}: {what} must be a scalar, has shape {list(a.shape)}")
    return float(a.reshape(-1)[0])


def bind_inputs(n: Node, bound: dict[str, str]) -> Node:
    """Append run-time weights (role -> IR ref) to ``n``'s inputs in the order its IR op
    declares (``weight_inputs`` of the schema); when a role is skipped, the node's
    ``weight_inputs`` attribute names the bound roles."""
    if not bound:
        return n
    from nnrosetta.ir import registry

    order = registry.get(n.op).weight_inputs
    roles = [r for r in order if r in bound]
    n.inputs.extend(bound[r] for r in roles)
    if roles != list(order[:len(roles)]):
        n.attrs["weight_inputs"] = roles
    return n


def only_first_output(onode: ONode, ctx: Context) -> None:
    """The IR computes output 0 only (inference): refuse when another output is consumed."""
    for o in onode.outputs[1:]:
        if o and ctx.used(o):
            raise Unsupported(f"{onode.label}: output {o!r} is used, but the IR computes only "
                              "the first output (inference)", "UNSUPPORTED_OUTPUT")
