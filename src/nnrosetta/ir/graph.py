"""The in-memory IR: a graph of nodes in topological order, plus the weights beside it.

Conventions (docs/ir.md):

* Activations are NCHW: (batch, channels, spatial...). Frontends convert at the edges.
* A node's i-th output is referred to as ``"name"`` (i = 0) or ``"name:i"``.
* A node's weights are graph tensors named ``"<node>.<role>"`` (``conv1.weight``); the roles an
  op takes are declared in its schema (``nnrosetta.ir.registry``).
* Attributes whose name starts with ``_`` are annotations, not semantics: ``_output_shapes``
  (MMdnn's convention), ``_source_name`` (the source-framework layer whose output this node's
  output equals), ``_source_op``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnrosetta.proto import ir_pb2

OPSET_VERSION = 1

_DTYPES = {
    "int8": ir_pb2.DT_INT8,
    "int16": ir_pb2.DT_INT16,
    "int32": ir_pb2.DT_INT32,
    "int64": ir_pb2.DT_INT64,
    "uint8": ir_pb2.DT_UINT8,
    "uint16": ir_pb2.DT_UINT16,
    "uint32": ir_pb2.DT_UINT32,
    "uint64": ir_pb2.DT_UINT64,
    "float16": ir_pb2.DT_FLOAT16,
    "float32": ir_pb2.DT_FLOAT32,
    "float64": ir_pb2.DT_FLOAT64,
    "complex64": ir_pb2.DT_COMPLEX64,
    "complex128": ir_pb2.DT_COMPLEX128,
    "bool": ir_pb2.DT_BOOL,
}
_DTYPE_NAMES = {v: k for k, v in _DTYPES.items()}


def dtype_to_proto(dtype: Any) -> int:
    """numpy dtype (or its name) -> ir_pb2.DataType."""
    name = np.dtype(dtype).name
    if name not in _DTYPES:
        raise ValueError(f"dtype {name} has no IR DataType")
    return _DTYPES[name]


def dtype_from_proto(value: int) -> np.dtype:
    if value not in _DTYPE_NAMES:
        raise ValueError(f"IR DataType {value} has no numpy dtype")
    return np.dtype(_DTYPE_NAMES[value]).newbyteorder("<")


def split_ref(ref: str) -> tuple[str, int]:
    """``"node:1"`` -> ("node", 1); ``"node"`` -> ("node", 0)."""
    name, sep, idx = ref.rpartition(":")
    if sep and idx.isdigit():
        return name, int(idx)
    return ref, 0


def make_ref(name: str, index: int) -> str:
    return name if index == 0 else f"{name}:{index}"


@dataclass
class TensorInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


@dataclass
class Node:
    name: str
    op: str
    inputs: list[str] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)

    def attr(self, key: str, default: Any = None) -> Any:
        return self.attrs.get(key, default)


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    tensors: dict[str, TensorInfo] = field(default_factory=dict)
    opset_version: int = OPSET_VERSION

    # -- queries -------------------------------------------------------------------------
    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def node_map(self) -> dict[str, Node]:
        return {n.name: n for n in self.nodes}

    def live_nodes(self, refs) -> set[str]:
        """Names of the nodes the given refs depend on (themselves included)."""
        by_name = self.node_map()
        live: set[str] = set()
        stack = [split_ref(r)[0] for r in refs]
        while stack:
            name = stack.pop()
            if name in live or name not in by_name:
                continue
            live.add(name)
            stack.extend(split_ref(r)[0] for r in by_name[name].inputs)
        return live

    @property
    def inputs(self) -> list[Node]:
        return [n for n in self.nodes if n.op == "Input"]

    def output_refs(self) -> list[str]:
        """Graph outputs: declared ones, else every node output that nothing consumes."""
        if self.outputs:
            return list(self.outputs)
        used = {split_ref(i)[0] for n in self.nodes for i in n.inputs}
        return [n.name for n in self.nodes if n.name not in used and n.op != "Input"]

    def weight_names(self, node: Node) -> dict[str, str]:
        """role -> tensor name of this node's weights that exist in the graph (the tensors
        named ``<node>.<role>``, the role without a dot)."""
        return dict(self._weight_index().get(node.name, {}))

    def _weight_index(self) -> dict[str, dict[str, str]]:
        """node name -> role -> tensor name, rebuilt only when the tensor names change
        (asked once per node, a scan of every tensor each time was quadratic: ~75k string
        tests for MobileNetV2)."""
        cached = self.__dict__.get("_weights_by_node")
        if cached is not None and cached[0] == self.tensors.keys():
            return cached[1]
        index: dict[str, dict[str, str]] = {}
        for t in self.tensors:
            owner, dot, role = t.rpartition(".")
            if dot:
                index.setdefault(owner, {})[role] = t
        self.__dict__["_weights_by_node"] = (frozenset(self.tensors), index)
        return index

    def consumers(self) -> dict[str, list[Node]]:
        out: dict[str, list[Node]] = {}
        for n in self.nodes:
            for i in n.inputs:
                out.setdefault(split_ref(i)[0], []).append(n)
        return out

    def toposorted(self) -> Graph:
        """Return a graph whose nodes are in topological order (stable); raises on cycles."""
        by_name = self.node_map()
        order: list[Node] = []
        state: dict[str, int] = {}

        def visit(n: Node) -> None:
            stack = [(n, iter(n.inputs))]
            state[n.name] = 1
            while stack:
                cur, it = stack[-1]
                for ref in it:
                    dep = split_ref(ref)[0]
                    if dep not in by_name:
                        raise ValueError(f"node {cur.name!r} reads {ref!r}, which no node produces")
                    s = state.get(dep, 0)
                    if s == 1:
                        raise ValueError(f"cycle through node {dep!r}")
                    if s == 0:
                        state[dep] = 1
                        stack.append((by_name[dep], iter(by_name[dep].inputs)))
                        break
                else:
                    stack.pop()
                    state[cur.name] = 2
                    order.append(cur)

        for n in self.nodes:
            if state.get(n.name, 0) == 0:
                visit(n)
        return Graph(order, list(self.outputs), dict(self.metadata), dict(self.tensors),
                     self.opset_version)

    # -- proto ---------------------------------------------------------------------------
    def to_proto(self) -> ir_pb2.GraphDef:
        g = ir_pb2.GraphDef(version=1, opset_version=self.opset_version)
        for n in self.nodes:
            nd = g.node.add(name=n.name, op=n.op)
            nd.input.extend(n.inputs)
            for k, v in n.attrs.items():
                nd.attr[k].CopyFrom(attr_to_proto(v))
        g.output.extend(self.outputs)
        g.metadata.update(self.metadata)
        for t in self.tensors.values():
            g.tensor.add(name=t.name, dtype=dtype_to_proto(t.dtype), shape=list(t.shape),
                         nbytes=t.nbytes)
        return g

    @classmethod
    def from_proto(cls, g: ir_pb2.GraphDef) -> Graph:
        nodes = [
            Node(nd.name, nd.op, list(nd.input),
                 {k: attr_from_proto(v) for k, v in sorted(nd.attr.items())})
            for nd in g.node
        ]
        tensors = {
            t.name: TensorInfo(t.name, dtype_from_proto(t.dtype).name, tuple(t.shape))
            for t in g.tensor
        }
        return cls(nodes, list(g.output), dict(g.metadata), tensors, g.opset_version or 1)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able view, for people (graph.json)."""
        return {
            "opset_version": self.opset_version,
            "metadata": dict(self.metadata),
            "outputs": self.output_refs(),
            "nodes": [
                {"name": n.name, "op": n.op, "inputs": n.inputs,
                 "attrs": {k: _jsonable(v) for k, v in n.attrs.items()}}
                for n in self.nodes
            ],
            "tensors": {t.name: {"dtype": t.dtype, "shape": list(t.shape)}
                        for t in self.tensors.values()},
        }


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    return v


# -- attributes ---------------------------------------------------------------------------
# Python values map onto AttrValue: bool -> b, int -> i, float -> f, str -> s (utf-8),
# list[int] -> list.i, list[float] -> list.f, list[str] -> list.s, list[bool] -> list.b,
# list[list[int]] -> list.shape (used for _output_shapes), np.ndarray -> tensor.

def attr_to_proto(v: Any) -> ir_pb2.AttrValue:
    a = ir_pb2.AttrValue()
    if isinstance(v, (bool, np.bool_)):
        a.b = bool(v)
    elif isinstance(v, (int, np.integer)):
        a.i = int(v)
    elif isinstance(v, (float, np.floating)):
        a.f = float(v)
    elif isinstance(v, str):
        a.s = v.encode()
    elif isinstance(v, bytes):
        a.s = v
    elif isinstance(v, np.ndarray):
        a.tensor.CopyFrom(literal_tensor(v))
    elif isinstance(v, (list, tuple)):
        a.list.SetInParent()
        if not v:
            return a
        first = v[0]
        if all(isinstance(x, (bool, np.bool_)) for x in v):
            a.list.b.extend(bool(x) for x in v)
        elif all(isinstance(x, (int, np.integer)) and not isinstance(x, bool) for x in v):
            a.list.i.extend(int(x) for x in v)
        elif all(isinstance(x, (int, float, np.integer, np.floating)) for x in v):
            a.list.f.extend(float(x) for x in v)
        elif all(isinstance(x, str) for x in v):
            a.list.s.extend(x.encode() for x in v)
        elif isinstance(first, (list, tuple)):
            for shp in v:
                s = a.list.shape.add()
                for d in shp:
                    s.dim.add(size=-1 if d is None else int(d))
        else:
            raise TypeError(f"cannot store list attribute {v!r}")
    else:
        raise TypeError(f"cannot store attribute of type {type(v).__name__}: {v!r}")
    return a


def attr_from_proto(a: ir_pb2.AttrValue) -> Any:
    kind = a.WhichOneof("value")
    if kind == "b":
        return a.b
    if kind == "i":
        return a.i
    if kind == "f":
        return a.f
    if kind == "s":
        try:
            return a.s.decode()
        except UnicodeDecodeError:
            return a.s
    if kind == "type":
        return dtype_from_proto(a.type).name
    if kind == "shape":
        return [d.size for d in a.shape.dim]
    if kind == "tensor":
        return literal_to_array(a.tensor)
    if kind == "list":
        lv = a.list
        for fld in ("i", "f", "s", "b", "shape", "type", "tensor"):
            vals = getattr(lv, fld)
            if len(vals):
                if fld == "s":
                    return [x.decode() for x in vals]
                if fld == "shape":
                    return [[d.size for d in s.dim] for s in vals]
                if fld == "type":
                    return [dtype_from_proto(t).name for t in vals]
                if fld == "tensor":
                    return [literal_to_array(t) for t in vals]
                return list(vals)
        return []
    return None


def literal_tensor(arr: np.ndarray) -> ir_pb2.LiteralTensor:
    arr = np.ascontiguousarray(arr)
    t = ir_pb2.LiteralTensor(dtype=dtype_to_proto(arr.dtype),
                             tensor_content=arr.astype(arr.dtype.newbyteorder("<")).tobytes())
    for d in arr.shape:
        t.tensor_shape.dim.add(size=d)
    return t


def literal_to_array(t: ir_pb2.LiteralTensor) -> np.ndarray:
    dtype = dtype_from_proto(t.dtype)
    shape = tuple(d.size for d in t.tensor_shape.dim)
    if t.tensor_content:
        return np.frombuffer(t.tensor_content, dtype=dtype).reshape(shape).copy()
    for fld in ("float_val", "double_val", "int_val", "int64_val", "uint_val", "uint64_val",
                "bool_val"):
        vals = getattr(t, fld)
        if len(vals):
            arr = np.asarray(list(vals), dtype=dtype)
            if arr.size == 1 and shape:
                arr = np.full(shape, arr[0], dtype=dtype)  # MMdnn version-0 broadcast
            return arr.reshape(shape)
    return np.zeros(shape, dtype=dtype)


def iter_refs(nodes: Iterable[Node]) -> Iterator[str]:
    for n in nodes:
        yield from n.inputs
