"""What a TF op importer is: a function ``(node, ctx) -> outputs`` for one or more TF op types.

An importer reads its TF node (``TFNode``: op type, data inputs as tensor names, attributes)
and asks the context (``ImportContext`` in ``graph/context.py``) for its inputs: activations
(``Act``: an IR ref plus the layout it is in) or constants (NumPy arrays). It emits IR nodes
through the context and returns, per TF output, an ``Act``, a constant, or None (an output
the IR does not compute). Problems are raised as ``NodeIssue`` / ``Unsupported``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
import numpy as np


class NodeIssue(Exception):
    """A problem with one node; becomes an Issue located at the node."""

    def __init__(self, code: str, message: str,
                 status: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class Unsupported(NodeIssue):
    """A node (or one of its settings) the importer cannot express in the IR."""

    def __init__(self, message: str, code: str = "UNSUPPORTED_ATTRIBUTE"):
        super().__init__(code, message, grpc.StatusCode.UNIMPLEMENTED)


def tensor_name(ref: str) -> str:
    """A TF input reference as a tensor name: ``"op"`` -> ``"op:0"``."""
    return ref if ":" in ref else f"{ref}:0"


def op_of(tensor: str) -> str:
    return tensor.rpartition(":")[0] if ":" in tensor else tensor


def out_index(tensor: str) -> int:
    name, sep, idx = tensor.rpartition(":")
    return int(idx) if sep and idx.isdigit() else 0


class TFNode:
    """One TF NodeDef as importers see it: data inputs as tensor names (control inputs
    dropped), attributes decoded on demand."""

    def __init__(self, nd: Any):
        self.nd = nd
        self.name: str = nd.name
        self.op: str = nd.op
        self.inputs: list[str] = [tensor_name(i) for i in nd.input if not i.startswith("^")]

    def input(self, i: int) -> str:
        return self.inputs[i] if i < len(self.inputs) else ""

    @property
    def label(self) -> str:
        return f"{self.op} node {self.name!r}"

    def has_attr(self, key: str) -> bool:
        return key in self.nd.attr

    def attr(self, key: str, default: Any = None) -> Any:
        if key not in self.nd.attr:
            return default
        return decode_attr(self.nd.attr[key])

    def data_format(self) -> str:
        return self.attr("data_format", "NHWC") or "NHWC"


def decode_attr(a: Any) -> Any:
    kind = a.WhichOneof("value")
    if kind == "s":
        return a.s.decode("utf-8", "replace")
    if kind in ("i", "f", "b"):
        return getattr(a, kind)
    if kind == "type":
        return dtype_name(a.type)
    if kind == "shape":
        if a.shape.unknown_rank:
            return None
        return [int(d.size) for d in a.shape.dim]
    if kind == "tensor":
        from tensorflow.python.framework import tensor_util

        return tensor_util.MakeNdarray(a.tensor)
    if kind == "list":
        lst = a.list
        if lst.s:
            return [s.decode("utf-8", "replace") for s in lst.s]
        if lst.f:
            return [float(v) for v in lst.f]
        if lst.type:
            return [dtype_name(t) for t in lst.type]
        return [int(v) for v in lst.i]
    return None


_DTYPES = {1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8",
           7: "string", 9: "int64", 10: "bool", 14: "bfloat16", 17: "uint16", 19: "float16",
           20: "resource", 21: "variant", 22: "uint32", 23: "uint64"}


def dtype_name(enum: int) -> str:
    return _DTYPES.get(int(enum), f"dtype{int(enum)}")


Outputs = list[Any]   # per TF output: Act | np.ndarray | None
ImporterFn = Callable[[TFNode, Any], Outputs]


@dataclass(frozen=True)
class Importer:
    op_type: str
    fn: ImporterFn
    ir_ops: tuple[str, ...]


IMPORTERS: dict[str, Importer] = {}


def tf_op(*op_types: str, ir_ops: Sequence[str] = ()) -> Callable[[ImporterFn], ImporterFn]:
    """Register the importer of TF op types; a second importer for an op type is refused."""

    def deco(fn: ImporterFn) -> ImporterFn:
        for t in op_types:
            if t in IMPORTERS:
                raise ValueError(f"TF op {t!r} has two importers")
            IMPORTERS[t] = Importer(t, fn, tuple(ir_ops))
        return fn

    return deco


def ints(values: Any) -> list[int]:
    return [int(v) for v in np.asarray(values).reshape(-1)]


def scalar(arr: Any, node: TFNode, what: str) -> float:
    a = np.asarray(arr)
    if a.size != 1:
        raise Unsupported(f"{node.label}: {what} must be a scalar, has shape {list(a.shape)}")
    return float(a.reshape(-1)[0])
