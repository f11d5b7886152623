"""The import context: what importers may ask about the TF graph being converted, and where
they emit IR nodes (kept per TF node, so a failing importer leaves nothing behind)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import grpc
import numpy as np

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node, make_ref
from nnrosetta_frontend_tf.graph.layout import (
    Act,
    Perm,
    between,
    const_in,
    norm,
    src_shape,
)
from nnrosetta_frontend_tf.graph.ops._base import NodeIssue, TFNode, Unsupported, op_of

FLOAT_DTYPES = ("float16", "float32", "float64", "bfloat16")


class Broken(Exception):
    """An input comes from a node that already failed: skip quietly (reported once)."""


def sanitize(name: str) -> str:
    """An IR node name from a TF name (':' would read as an output index)."""
    s = re.sub(r"[:\s]+", "_", name).strip("_")
    return s or "node"


def ir_const(arr: np.ndarray) -> np.ndarray:
    """Constants go into the IR as float32 when they are floating point."""
    a = np.asarray(arr)
    if a.dtype.kind == "f" and a.dtype != np.float32:
        return a.astype(np.float32)
    if a.dtype.kind not in "fiub":
        raise NodeIssue("UNSUPPORTED_DTYPE", f"a constant of dtype {a.dtype} cannot be an IR "
                        "tensor", grpc.StatusCode.UNIMPLEMENTED)
    return np.ascontiguousarray(a)


class ImportContext:
    def __init__(self, consumers: dict[str, list[TFNode]], graph_outputs: set[str],
                 strip: str = ""):
        self.values: dict[str, Act | np.ndarray] = {}    # TF tensor -> value
        self.broken: set[str] = set()
        self.nodes: list[Node] = []
        self.weights: dict[str, np.ndarray] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}     # IR ref -> shape
        self.names: set[str] = set()
        self.fused: dict[str, list[Any]] = {}            # TF node -> outputs computed earlier
        self.perms: dict[str, Perm] = {}                 # TF tensor -> layout of its Act
        self.notes: list[str] = []                       # for the user, once each
        self._consumers = consumers                      # TF tensor -> consuming nodes
        self.graph_outputs = graph_outputs
        self._strip = strip
        self._const_nodes: dict[tuple, str] = {}           # Constant / Transpose nodes made
        self.node: TFNode | None = None
        self.base = ""
        self._mark = 0
        self._new_weights: list[str] = []
        self._new_names: list[str] = []
        self._new_consts: list[tuple] = []

    # -- bookkeeping -----------------------------------------------------------------------
    def unique(self, base: str) -> str:
        name, k = base, 1
        while name in self.names:
            name, k = f"{base}_{k}", k + 1
        self.names.add(name)
        return name

    def ir_name(self, tf_name: str) -> str:
        s = tf_name[len(self._strip):] if self._strip and tf_name.startswith(self._strip) \
            else tf_name
        return sanitize(s)

    def begin(self, node: TFNode | None) -> None:
        self.node = node
        self.base = self.ir_name(node.name) if node is not None else "output"
        self._mark = len(self.nodes)
        self._new_weights, self._new_names, self._new_consts = [], [], []

    def rollback(self) -> None:
        del self.nodes[self._mark:]
        for w in self._new_weights:
            self.weights.pop(w, None)
        for n in self._new_names:
            self.names.discard(n)
        for k in self._new_consts:
            self._const_nodes.pop(k, None)

    def rollback_last(self) -> None:
        """Drop the node emitted last (an importer that emitted it to learn its shape)."""
        n = self.nodes.pop()
        for w in [w for w in self.weights if w.rpartition(".")[0] == n.name]:
            del self.weights[w]
        self.names.discard(n.name)

    def _name(self, suffix: str) -> str:
        name = self.unique(self.base if not suffix else f"{self.base}_{suffix}")
        self._new_names.append(name)
        return name

    # -- the importer's view ---------------------------------------------------------------
    def value(self, tensor: str) -> Act | np.ndarray:
        if op_of(tensor) in self.broken:
            raise Broken(tensor)
        if tensor not in self.values:
            raise NodeIssue("BAD_INPUT", f"input {tensor!r} is not produced by any node "
                            "the importer has seen")
        return self.values[tensor]

    def is_const(self, tensor: str) -> bool:
        return tensor in self.values and not isinstance(self.values[tensor], Act)

    def const(self, tensor: str, what: str = "") -> np.ndarray:
        v = self.value(tensor)
        if isinstance(v, Act):
            raise NodeIssue("DYNAMIC_INPUT", f"{self.node.label if self.node else ''}: "
                            f"{what or 'input'} {tensor!r} must be a constant (computable "
                            "from Const nodes and static shapes); it is computed at run time",
                            grpc.StatusCode.UNIMPLEMENTED)
        return v

    def act(self, tensor: str) -> Act:
        """The input as an activation (a constant becomes a Constant node)."""
        v = self.value(tensor)
        if isinstance(v, Act):
            return v
        return self.const_act(v, key=(tensor,))

    def shape(self, tensor: str) -> tuple[int, ...]:
        v = self.value(tensor)
        return v.src_shape if isinstance(v, Act) else tuple(np.shape(v))

    def consumers(self, tensor: str) -> list[TFNode]:
        return self._consumers.get(tensor, [])

    def sole_consumer(self, tensor: str) -> TFNode | None:
        """The one node that reads ``tensor`` (once), when it is not also a graph output."""
        c = self.consumers(tensor)
        if len(c) != 1 or tensor in self.graph_outputs:
            return None
        if sum(1 for i in c[0].inputs if i == tensor) != 1:
            return None
        return c[0]

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def fuse(self, node: TFNode, outputs: list[Any]) -> None:
        """``node`` (a later one) is computed by the current node's IR: its outputs are these."""
        self.fused[node.name] = outputs

    # -- emitting --------------------------------------------------------------------------
    def emit(self, op: str, inputs: Sequence[str], attrs: dict | None = None,
             weights: dict[str, np.ndarray] | None = None, *, perm: Perm = None,
             source: bool | str = False, suffix: str = "", dtype: str = "float32",
             source_op: str = "") -> Act:
        """Add an IR node; returns its output 0 as an Act in layout ``perm``. ``source``: the
        node's output equals the current TF node's output 0 (True) or the named TF tensor,
        up to ``perm`` (sets ``_source_name`` / ``_source_perm``; ``_source_op`` is
        ``source_op`` or the current node's op)."""
        name = self._name(suffix)
        n = Node(name, op, list(inputs), dict(attrs or {}))
        ws = {role: ir_const(a) for role, a in (weights or {}).items()}
        try:
            in_shapes = [self.shapes[r] for r in n.inputs]
            outs = registry.get(op).infer_node(n, in_shapes, {r: a.shape for r, a in ws.items()})
        except Exception as e:  # noqa: BLE001 - becomes an issue
            raise NodeIssue("BAD_SHAPE", f"{self.node.label if self.node else name}: IR {op} "
                            f"cannot take input shapes "
                            f"{[list(self.shapes.get(r, ())) for r in n.inputs]}: {e}") from e
        for i, s in enumerate(outs):
            self.shapes[make_ref(name, i)] = tuple(int(d) for d in s)
        p = norm(perm)
        if source:
            src = source if isinstance(source, str) else self.node.name
            n.attrs["_source_name"] = src
            n.attrs["_source_op"] = source_op or (self.node.op if self.node is not None else op)
            if p is not None:
                n.attrs["_source_perm"] = list(p)
        for role, a in ws.items():
            self.weights[f"{name}.{role}"] = a
            self._new_weights.append(f"{name}.{role}")
        self.nodes.append(n)
        return Act(name, src_shape(self.shapes[name], p), p, dtype)

    def output_act(self, ref: str, perm: Perm, dtype: str = "float32") -> Act:
        """An Act for another output (``"name:i"``) of an emitted node."""
        return Act(ref, src_shape(self.shapes[ref], norm(perm)), norm(perm), dtype)

    def const_act(self, arr: np.ndarray, key: tuple | None = None) -> Act:
        """A constant as an activation (an IR Constant node; one per key)."""
        a = ir_const(arr)
        k = (key, a.dtype.name, a.shape) if key is not None else None
        if k is not None and k in self._const_nodes:
            ref = self._const_nodes[k]
        else:
            base = self.ir_name(op_of(key[0])) if key else f"{self.base}_const"
            saved = self.base
            self.base = base
            try:
                ref = self.emit("Constant", [], weights={"value": a}, dtype=a.dtype.name).ref
            finally:
                self.base = saved
            if k is not None:
                self._const_nodes[k] = ref
                self._new_consts.append(k)
        return Act(ref, tuple(a.shape), None, a.dtype.name)

    def layout(self, act: Act, perm: Perm) -> Act:
        """``act`` in layout ``perm``: a Transpose (a Reshape when only size-1 dims move)."""
        p = norm(perm)
        if act.feat is not None:
            raise Unsupported(f"{self.node.label}: reads a flattened activation whose feature "
                              "order differs from TensorFlow's; only MatMul with a constant "
                              "weight can", "UNSUPPORTED_LAYOUT")
        if act.perm == p:
            return act
        key = ("layout", act.ref, act.perm, p)
        if key in self._const_nodes:
            return Act(self._const_nodes[key], act.src_shape, p, act.dtype)
        t = between(act.perm, p, act.rank)
        shape = self.shapes[act.ref]
        kept = [i for i in t if shape[i] != 1]
        if kept == sorted(kept):
            out = self.emit("Reshape", [act.ref], {"shape": [int(shape[i]) for i in t]},
                            perm=p, suffix="reshape", dtype=act.dtype)
        else:
            out = self.emit("Transpose", [act.ref], {"perm": list(t)}, perm=p,
                            suffix="transpose", dtype=act.dtype)
        self._const_nodes[key] = out.ref
        self._new_consts.append(key)
        return Act(out.ref, act.src_shape, p, act.dtype)

    def source_layout(self, act: Act) -> Act:
        return self.layout(act, None)

    def expand_to(self, act: Act, rank: int) -> Act:
        """``act`` with leading size-1 dims up to ``rank`` (NumPy broadcasting), same layout
        for the dims it had."""
        if act.rank >= rank:
            return act
        a = self.source_layout(act)
        shape = (1,) * (rank - a.rank) + a.src_shape
        return self.emit("Reshape", [a.ref], {"shape": list(shape)}, suffix="expand",
                         dtype=a.dtype)

    def align(self, tensors: Sequence[str]) -> tuple[list[str], int, Perm, tuple[int, ...]]:
        """The inputs of a broadcasting elementwise op in one layout: (IR refs, rank, layout,
        broadcast source shape). Constants are permuted to the layout (never transposed at
        run time); activations of lower rank are expanded."""
        vals = [self.value(t) for t in tensors]
        rank = max(len(v.src_shape) if isinstance(v, Act) else np.ndim(v) for v in vals)
        acts = [v for v in vals if isinstance(v, Act)]
        target: Perm = None
        for v in acts:
            if v.rank == rank and v.perm is not None:
                target = v.perm
                break
        try:
            bshape = tuple(np.broadcast_shapes(*[v.src_shape if isinstance(v, Act)
                                                 else np.shape(v) for v in vals]))
        except ValueError as e:
            raise NodeIssue("BAD_SHAPE", f"{self.node.label}: input shapes do not broadcast: "
                            f"{e}") from e
        refs = []
        for t, v in zip(tensors, vals, strict=True):
            if isinstance(v, Act):
                refs.append(self.layout(self.expand_to(v, rank), target).ref)
            else:
                refs.append(self.const_act(const_in(v, rank, target),
                                           key=(t, target, rank)).ref)
        return refs, rank, target, bshape
