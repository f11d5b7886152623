"""IR graph -> a standard ONNX model file, written as the weights are emitted.

Layout of what ``build`` writes:

* ``model.onnx``: the ModelProto. Initializers are written to the file one by one while the
  nodes are emitted (each as a serialized ``ModelProto(graph=GraphProto(initializer=[t]))``
  fragment; protobuf merges repeated embedded messages, so the concatenation of the fragments
  and the final header is one valid ModelProto). No copy of all the weights is ever held.
* ``model.onnx.data`` (external data, when the weights would not fit a 2 GB protobuf or when
  asked for): the raw bytes of every initializer of 1 KiB or more, each 4 KiB aligned;
  ``model.onnx`` then holds only the references.

Names: ONNX value names are the IR refs sanitized (``conv1/7x7_s2`` -> ``conv1_7x7_s2``,
``split:1`` -> ``split_1``), initializers keep their IR tensor names sanitized the same way;
every ONNX node's name is its IR node's name (helper nodes: ``<IR name>/<op>``). The model's
``metadata_props`` map IR names to ONNX names (``nnrosetta.inputs``, ``nnrosetta.outputs``,
``nnrosetta.values``), which Run uses to answer in IR names.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Graph, Node, make_ref, split_ref
from nnrosetta_backend_onnx import emitters

DEFAULT_OPSET = 17
MIN_OPSET = 13
# above this many bytes of weights the model is written with external data (a protobuf
# message cannot exceed 2 GiB; leave room for the graph itself)
EXTERNAL_THRESHOLD = 2**31 - 2**27
EXTERNAL_MIN_BYTES = 1024      # smaller initializers stay inside model.onnx
ALIGN = 4096
WRITE_BLOCK = 64 * 2**20
META_INPUTS = "nnrosetta.inputs"     # JSON [[IR input name, ONNX name], ...]
META_OUTPUTS = "nnrosetta.outputs"   # JSON [[IR output ref, ONNX name], ...]
META_VALUES = "nnrosetta.values"     # JSON {IR ref: ONNX value name} of every emitted value
MODEL_ONNX = "model.onnx"
DATA_SUFFIX = ".data"
FLOAT = TensorProto.FLOAT
INT64 = TensorProto.INT64


def max_opset() -> int:
    return onnx.defs.onnx_opset_version()


def parse_opset(value: str | int | None) -> int:
    """The ``opset`` option, checked (ValueError with the allowed range)."""
    if value in (None, ""):
        return DEFAULT_OPSET
    try:
        v = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"option opset={value!r} is not an integer") from None
    if not MIN_OPSET <= v <= max_opset():
        raise ValueError(f"option opset={v}: backend-onnx writes opsets {MIN_OPSET}.."
                         f"{max_opset()} (onnx {onnx.__version__})")
    return v


class BuildError(ValueError):
    def __init__(self, node: str, message: str):
        super().__init__(f"{node}: {message}")
        self.ir_node = node
        self.message = message


def sanitize(name: str) -> str:
    s = re.sub(r"[^0-9A-Za-z_.]+", "_", name).strip("_")
    return s or "v"


class Names:
    """Unique ONNX value names derived from IR names."""

    def __init__(self, reserved: Iterable[str] = ()):
        self.used: set[str] = set(reserved)

    def new(self, name: str) -> str:
        base = sanitize(name)
        out, i = base, 1
        while out in self.used:
            i += 1
            out = f"{base}_{i}"
        self.used.add(out)
        return out


def elem_type(dtype: Any) -> int:
    return helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


# -- initializers --------------------------------------------------------------------------

class Sink:
    """Writes initializers to the model file (inline) or to the external data file as they
    come; keeps only a data-less stub of each (for model.txt)."""

    def __init__(self, model_path: str, external: bool):
        self.model_path = model_path
        self.data_path = model_path + DATA_SUFFIX if external else ""
        self.f = open(model_path, "wb")
        self.data = open(self.data_path, "wb") if external else None
        self.pos = 0
        self.stubs: list[TensorProto] = []
        self.nbytes = 0

    def add(self, name: str, arr: np.ndarray) -> None:
        if not arr.flags.c_contiguous:   # (np.ascontiguousarray would make 0-D arrays 1-D)
            arr = np.array(arr, order="C")
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        self.nbytes += arr.nbytes
        if self.data is not None and arr.nbytes >= EXTERNAL_MIN_BYTES:
            t = TensorProto(name=name, data_type=elem_type(arr.dtype), dims=list(arr.shape))
            start = -(-self.pos // ALIGN) * ALIGN
            if start > self.pos:
                self.data.write(b"\0" * (start - self.pos))
            buf = memoryview(arr.reshape(-1).view(np.uint8))
            for off in range(0, len(buf), WRITE_BLOCK):
                self.data.write(buf[off:off + WRITE_BLOCK])
            self.pos = start + arr.nbytes
            t.data_location = TensorProto.EXTERNAL
            for k, v in (("location", os.path.basename(self.data_path)),
                         ("offset", str(start)), ("length", str(arr.nbytes))):
                e = t.external_data.add()
                e.key, e.value = k, v
            self.stubs.append(t)
            frag = t
        else:
            frag = numpy_helper.from_array(arr, name)
            self.stubs.append(TensorProto(name=name, data_type=frag.data_type,
                                          dims=list(arr.shape)))
        self.f.write(onnx.ModelProto(graph=onnx.GraphProto(initializer=[frag]))
                     .SerializeToString())

    def finish(self, header: onnx.ModelProto) -> None:
        self.f.write(header.SerializeToString())
        self.close()

    def close(self) -> None:
        self.f.close()
        if self.data is not None:
            self.data.close()


# -- what emitters see ---------------------------------------------------------------------

class NodeView:
    """A node's attributes (registry defaults filled in), weight shapes, value shapes and the
    opset being written: what checks and emitters see."""

    def __init__(self, node: Node, graph: Graph, shapes: Mapping[str, tuple[int, ...]],
                 opset: int, weights: Mapping[str, np.ndarray] | None = None):
        self.ir_node = node
        self.name = node.name
        self.op = node.op
        self.graph = graph
        self.opset = opset
        self._shapes = shapes
        self._weights = weights if weights is not None else {}
        self._wnames = graph.weight_names(node)
        try:
            self.attrs = registry.get(node.op).with_defaults(node.attrs)
            self._bound_roles = registry.get(node.op).bound_roles(node)
        except KeyError:
            self.attrs = {k: v for k, v in node.attrs.items() if not k.startswith("_")}
            self._bound_roles = []

    def attr(self, key: str, default: Any = None) -> Any:
        v = self.attrs.get(key, default)
        return default if v is None else v

    def dynamic(self, role: str) -> bool:
        """Whether weight ``role`` is an input computed at run time (not a stored tensor);
        ``has_weight``, ``weight_shape`` and ``Emit.weight`` cover both kinds."""
        return role in self._bound_roles

    def bound_index(self, role: str) -> int:
        """The node-input index of the run-time weight ``role``."""
        return len(self.ir_node.inputs) - len(self._bound_roles) + self._bound_roles.index(role)

    def has_weight(self, role: str) -> bool:
        return role in self._wnames or self.dynamic(role)

    def weight_shape(self, role: str) -> tuple[int, ...] | None:
        if self.dynamic(role):
            return self.in_shape(self.bound_index(role))
        t = self._wnames.get(role)
        return None if t is None else tuple(self.graph.tensors[t].shape)

    def weight_dtype(self, role: str) -> str | None:
        t = self._wnames.get(role)
        return None if t is None else str(self.graph.tensors[t].dtype)

    def in_shape(self, i: int = 0) -> tuple[int, ...] | None:
        if i >= len(self.ir_node.inputs):
            return None
        ref = self.ir_node.inputs[i]
        return self._shapes.get(ref) or self._shapes.get(make_ref(*split_ref(ref)))

    def in_rank(self, i: int = 0) -> int | None:
        s = self.in_shape(i)
        return None if s is None else len(s)

    def out_shape(self, i: int = 0) -> tuple[int, ...] | None:
        return self._shapes.get(make_ref(self.name, i))


class Emit(NodeView):
    """The emitter's handle on the ONNX graph being built for one IR node."""

    def __init__(self, b: Builder, node: Node, inputs: list[str], outputs: list[str]):
        super().__init__(node, b.graph, b.shapes, b.opset, b.weights)
        self.b = b
        self.inputs = inputs
        self.outs = outputs
        self.x = inputs[0] if inputs else ""
        self.out = outputs[0]
        self._count = 0

    def used(self, i: int) -> bool:
        """Whether this node's i-th output is read (by a node, as an output or a tap)."""
        return make_ref(self.name, i) in self.b.used

    # values and constants
    def tmp(self, hint: str) -> str:
        return self.b.names.new(f"{self.out}_{hint}")

    def weight_array(self, role: str) -> np.ndarray | None:
        t = self._wnames.get(role)
        if t is None:
            return None
        arr = np.asarray(self._weights[t])
        if arr.dtype.kind == "f" and arr.dtype != np.float32:
            arr = arr.astype(np.float32)
        return arr

    def weight(self, role: str, shape: Sequence[int] | None = None) -> str:
        """The IR weight ``role`` as an initializer (reshaped: a view, never a copy), or, when
        it is computed at run time, that input's value (through a Reshape when ``shape``
        differs from its shape)."""
        if self.dynamic(role):
            value = self.inputs[self.bound_index(role)]
            have = self.weight_shape(role)
            if shape is not None and have is not None and -1 in shape:
                known = int(np.prod([d for d in shape if d != -1], dtype=np.int64)) or 1
                total = int(np.prod(have, dtype=np.int64))
                shape = [total // known if d == -1 else int(d) for d in shape]
            if shape is None or (have is not None and tuple(have) == tuple(shape)):
                return value
            return self.node("Reshape", [value, self.ints(shape, f"{role}_shape")])
        t = self._wnames[role]
        arr = self.weight_array(role)
        if shape is not None:
            arr = arr.reshape(tuple(shape))
        name = self.b.names.new(t)
        self.b.sink.add(name, arr)
        self.b.dtypes[name] = elem_type(arr.dtype)
        return name

    def const(self, value: Any, dtype: Any = np.float32, hint: str = "const") -> str:
        """A (small) constant as an initializer."""
        arr = np.asarray(value, dtype=dtype)
        name = self.b.names.new(f"{self.name}.{hint}")
        self.b.sink.add(name, arr)
        self.b.dtypes[name] = elem_type(arr.dtype)
        return name

    def ints(self, values: Sequence[int], hint: str = "ints") -> str:
        return self.const(np.asarray([int(v) for v in values], np.int64), np.int64, hint)

    # nodes
    def node(self, op_type: str, inputs: Sequence[str], attrs: Mapping[str, Any] | None = None,
             outputs: Sequence[str] | None = None, n_out: int = 1, dtype: int = FLOAT,
             ) -> str | list[str]:
        """Add an ONNX node; returns its output name (or names when n_out > 1 / outputs)."""
        if outputs is None:
            outputs = [self.tmp(op_type) for _ in range(n_out)]
        outputs = list(outputs)
        final = any(o in self.outs for o in outputs)
        name = self.name if final and self.name not in self.b.node_names else \
            f"{self.name}/{op_type}"
        i = 1
        base = name
        while name in self.b.node_names:
            i += 1
            name = f"{base}_{i}"
        self.b.node_names.add(name)
        attrs = {k: v for k, v in (attrs or {}).items() if v is not None}
        self.b.nodes.append(helper.make_node(op_type, list(inputs), outputs, name=name, **attrs))
        for o in outputs:
            if o:
                self.b.dtypes.setdefault(o, dtype)
        return outputs[0] if len(outputs) == 1 and n_out == 1 else outputs

    def final(self, op_type: str, inputs: Sequence[str], dtype: int = FLOAT, **attrs: Any) -> str:
        """Add the node that produces this IR node's (first) output."""
        return self.node(op_type, inputs, attrs, outputs=[self.out], dtype=dtype)

    def alias(self, value: str) -> None:
        """This IR node's output is ``value`` (an Identity node, so the name stays)."""
        self.final("Identity", [value], dtype=self.b.dtypes.get(value, FLOAT))


# -- the builder -------------------------------------------------------------------------------





def problems(graph: Graph, opset: int) -> list[tuple[str, str, str]]:
    """(node, op, message) for every node that cannot be written at ``opset``, all at once."""
    shapes = registry.shapes_or_annotations(graph)
    out: list[tuple[str, str, str]] = []
    for n in graph.nodes:
        em = emitters.get(n.op)
        if em is None or not registry.has(n.op):
            why = "is not an IR op" if not registry.has(n.op) else "has no ONNX emitter"
            out.append((n.name, n.op, f"op {n.op!r} {why}; backend-onnx cannot emit it"))
            continue
        if em.check is not None:
            try:
                msgs = em.check(NodeView(n, graph, shapes, opset))
            except Exception as e:  # noqa: BLE001 - a broken node is a problem, not a crash
                msgs = [f"cannot check: {e}"]
            for msg in msgs:
                out.append((n.name, n.op, f"{msg} (opset {opset})"))
    return out




@dataclass
class Built:
    model_path: str
    data_path: str                     # "" without external data
    header: onnx.ModelProto            # the model without initializer data
    stubs: list[TensorProto]           # initializers without data
    inputs: list[tuple[str, str]]      # (IR name, ONNX name)
    outputs: list[tuple[str, str]]     # (IR ref, ONNX name)
    values: dict[str, str] = field(default_factory=dict)
    weight_bytes: int = 0

    def text(self) -> str:
        """The readable form: onnx.printer of the model, initializers without their data."""
        m = onnx.ModelProto()
        m.CopyFrom(self.header)
        m.graph.initializer.extend(self.stubs)
        return onnx.printer.to_text(m)


class Builder:
    def __init__(self, graph: Graph, weights: Mapping[str, np.ndarray], opset: int,
                 taps: Sequence[str] = ()):
        self.graph = graph.toposorted()
        self.weights = weights
        self.opset = opset
        self.taps = list(dict.fromkeys(make_ref(*split_ref(t)) for t in taps))
        self.shapes = registry.shapes_or_annotations(self.graph)
        self.names = Names()
        self.node_names: set[str] = set()
        self.nodes: list[onnx.NodeProto] = []
        self.dtypes: dict[str, int] = {}
        self.values: dict[str, str] = {}
        self.sink: Sink | None = None
        self.used: set[str] = set()

    def build(self, model_path: str, external: bool | None = None) -> Built:
        g = self.graph
        outputs = g.output_refs()
        if external is None:
            external = sum(t.nbytes for t in g.tensors.values()) > EXTERNAL_THRESHOLD
        live = g.live_nodes([*outputs, *self.taps])
        self.used = {make_ref(*split_ref(r)) for n in g.nodes if n.name in live
                     for r in n.inputs} | {make_ref(*split_ref(r)) for r in outputs} | set(
                         self.taps)
        self.sink = Sink(model_path, external)
        try:
            header = self._emit(g, outputs, live)
        except BaseException:
            self.sink.close()
            raise
        self.sink.finish(header)
        return Built(model_path, self.sink.data_path, header, self.sink.stubs,
                     self._inputs, self._outputs, dict(self.values), self.sink.nbytes)

    def _emit(self, g: Graph, outputs: list[str], live: set[str]) -> onnx.ModelProto:
        inputs: list[onnx.ValueInfoProto] = []
        self._inputs: list[tuple[str, str]] = []
        dynamic = False
        for n in g.inputs:
            name = self.names.new(n.name)
            self.values[n.name] = name
            dt = elem_type(str(n.attrs.get("dtype", "float32")))
            self.dtypes[name] = dt
            shape = [int(d) for d in n.attrs.get("shape", [])]
            dims: list[Any] = [d if d >= 0 else ("N" if i == 0 else f"d{i}")
                               for i, d in enumerate(shape)]
            dynamic = dynamic or any(d < 0 for d in shape)
            inputs.append(helper.make_tensor_value_info(name, dt, dims))
            self._inputs.append((n.name, name))
        for n in g.nodes:
            if n.op == "Input" or n.name not in live:
                continue
            em = emitters.get(n.op)
            if em is None:
                raise BuildError(n.name, f"op {n.op!r} has no ONNX emitter")
            try:
                ins = [self.values[make_ref(*split_ref(r))] for r in n.inputs]
            except KeyError as e:
                raise BuildError(n.name, f"input {e} is not computed before it") from e
            count = registry.output_count(n)
            outs = [self.names.new(make_ref(n.name, i))
                    for i in range(count)]
            for i, v in enumerate(outs):
                self.values[make_ref(n.name, i)] = v
            try:
                em.emit(Emit(self, n, ins, outs))
            except BuildError:
                raise
            except Exception as e:
                raise BuildError(n.name, f"cannot emit {n.op}: {type(e).__name__}: {e}") from e
        missing = [r for r in outputs if make_ref(*split_ref(r)) not in self.values]
        if missing:
            raise BuildError("<graph>", f"outputs {missing} are not produced")
        graph_inputs = {v for _, v in self._inputs}
        out_infos: list[onnx.ValueInfoProto] = []
        self._outputs: list[tuple[str, str]] = []
        seen: set[str] = set()
        for ref in [*outputs, *[t for t in self.taps if t not in outputs]]:
            key = make_ref(*split_ref(ref))
            value = self.values.get(key)
            if value is None:
                raise BuildError(split_ref(ref)[0], f"{ref!r} is not an IR value of this graph")
            if value in graph_inputs or value in seen:
                # a graph output must be produced by a node, and only once
                alias = self.names.new(f"{value}_out")
                self.nodes.append(helper.make_node("Identity", [value], [alias],
                                                   name=f"{split_ref(ref)[0]}/output"))
                self.dtypes[alias] = self.dtypes.get(value, FLOAT)
                value = alias
            seen.add(value)
            shape = self.shapes.get(key)
            if shape is not None and dynamic:   # the rank only: dims follow the free inputs
                shape = [None] * len(shape)
            elif shape is not None:             # -1: known only at run time (IR docs)
                shape = [None if d < 0 else d for d in shape]
            out_infos.append(helper.make_tensor_value_info(
                value, self.dtypes.get(value, FLOAT), list(shape) if shape is not None else None))
            self._outputs.append((ref, value))
        md = g.metadata or {}
        graph = helper.make_graph(self.nodes, sanitize(str(md.get("name") or "model")),
                                  inputs, out_infos)
        opsets = [helper.make_opsetid("", self.opset)]
        model = helper.make_model(graph, opset_imports=opsets,
                                  producer_name="nnrosetta backend-onnx",
                                  producer_version=_version(),
                                  ir_version=helper.find_min_ir_version_for(opsets))
        model.doc_string = "Converted by nnrosetta from " + ", ".join(
            f"{k}={v}" for k, v in sorted(md.items())) if md else "Converted by nnrosetta"
        props = {META_INPUTS: json.dumps(self._inputs),
                 META_OUTPUTS: json.dumps(self._outputs),
                 META_VALUES: json.dumps(self.values)}
        for k, v in sorted(md.items()):
            props[f"source.{k}"] = str(v)
        helper.set_model_props(model, props)
        return model


def _version() -> str:
    from nnrosetta_backend_onnx import __version__

    return __version__


def build(graph: Graph, weights: Mapping[str, np.ndarray], opset: int, model_path: str,
          taps: Sequence[str] = (), external: bool | None = None) -> Built:
    return Builder(graph, weights, opset, taps).build(model_path, external)


def read_meta(model: onnx.ModelProto) -> dict[str, Any]:
    """The IR name maps a model written here carries (empty when it has none)."""
    props = {p.key: p.value for p in model.metadata_props}
    out: dict[str, Any] = {}
    for key, kind in ((META_INPUTS, list), (META_OUTPUTS, list), (META_VALUES, dict)):
        if key in props:
            try:
                v = json.loads(props[key])
            except ValueError:
                continue
            if isinstance(v, kind):
                out[key] = v
    return out
