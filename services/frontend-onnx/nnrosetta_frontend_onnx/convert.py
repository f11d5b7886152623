"""ONNX graph -> IR graph: walks the nodes that the graph outputs need, in order; folds every
node whose inputs are all constants with ``onnx.reference`` (ONNX's own NumPy evaluator) and
``Shape`` of statically shaped tensors; dispatches the rest to the per-op importers; and
collects every issue instead of stopping at the first."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
import numpy as np
import onnx
from onnx import helper

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Graph, Node, TensorInfo, make_ref, split_ref
from nnrosetta.rpc.errors import Issue
from nnrosetta_frontend_onnx.importers import NodeIssue, ONode, Out, Tensor, find
from nnrosetta_frontend_onnx.loader import DEFAULT_DOMAINS, FLOAT_TYPES, Loaded

# never folded: not deterministic, or graphs of their own
NO_FOLD = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike",
           "Multinomial", "Bernoulli", "If", "Loop", "Scan", "SequenceMap"}
_SMALL_INIT = 4096   # initializers up to this many elements go into the shape-inference copy


class _Broken(Exception):
    """An input comes from a node that already failed: skip quietly (reported once)."""


@dataclass
class Conversion:
    graph: Graph
    weights: dict[str, Tensor]
    issues: list[Issue]
    notes: list[str]
    status: grpc.StatusCode = grpc.StatusCode.OK
    input_names: dict[str, str] = field(default_factory=dict)   # IR input -> ONNX input

    def iter_weights(self) -> Iterator[tuple[str, np.ndarray]]:
        for name, t in self.weights.items():
            a = np.ascontiguousarray(t.load())
            if a.dtype.name != t.dtype:
                a = a.astype(t.dtype)
            if tuple(a.shape) != tuple(t.shape):
                a = a.reshape(t.shape)
            yield name, a


def sanitize(name: str) -> str:
    """An IR node name from an ONNX name: ':' would read as an output index."""
    s = re.sub(r"[:\s]+", "_", name).strip()
    return s or "node"


def input_name_map(model: onnx.ModelProto) -> dict[str, str]:
    """IR Input node name -> ONNX graph input name (the frontend and Run agree on it)."""
    inits = {t.name for t in model.graph.initializer}
    out: dict[str, str] = {}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        base = sanitize(vi.name)
        name, k = base, 1
        while name in out:
            name, k = f"{base}_{k}", k + 1
        out[name] = vi.name
    return out


def ir_float(t: Tensor) -> Tensor:
    """The IR computes in float32: other float constants are cast."""
    if t.dtype == "float32":
        return t
    if t.dtype in ("float16", "float64", "bfloat16") or t.dtype.startswith("float"):
        return t.map(lambda a: np.asarray(a, dtype=np.float32), dtype="float32")
    return t


def _status(issues: list[Issue]) -> grpc.StatusCode:
    """Every problem, unsupported ops included, is one INVALID_ARGUMENT error with all the
    issues as details; a truncated file is DATA_LOSS."""
    if not issues:
        return grpc.StatusCode.OK
    if any(i.code == "TRUNCATED" for i in issues):
        return grpc.StatusCode.DATA_LOSS
    return grpc.StatusCode.INVALID_ARGUMENT


def static_shapes(model: onnx.ModelProto, input_shapes: Mapping[str, tuple[int, ...]],
                  ) -> dict[str, tuple[int, ...]]:
    """Fully static shapes of every tensor onnx.shape_inference can determine, on a copy of
    the graph that carries only the small initializers (big ones become typed inputs)."""
    g = onnx.GraphProto(name=model.graph.name)
    g.node.extend(model.graph.node)
    inits = {t.name for t in model.graph.initializer}
    for vi in model.graph.input:
        if vi.name in inits:
            continue
        if vi.name in input_shapes:
            g.input.append(helper.make_tensor_value_info(
                vi.name, vi.type.tensor_type.elem_type, list(input_shapes[vi.name])))
        else:
            g.input.append(vi)
    for t in model.graph.initializer:
        n = int(np.prod(t.dims)) if len(t.dims) else 1
        if n <= _SMALL_INIT and t.data_location != onnx.TensorProto.EXTERNAL:
            g.initializer.append(t)
        else:
            g.input.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    g.output.extend(model.graph.output)
    m = helper.make_model(g, opset_imports=list(model.opset_import))
    m.ir_version = model.ir_version
    try:
        inferred = onnx.shape_inference.infer_shapes(m, strict_mode=False, data_prop=True)
    except Exception:  # noqa: BLE001 - shape inference is a help, not a requirement
        return {}
    out: dict[str, tuple[int, ...]] = {}
    for vi in list(inferred.graph.value_info) + list(inferred.graph.output):
        tt = vi.type.tensor_type
        if not tt.HasField("shape"):
            continue
        dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
        if all(d is not None and d >= 0 for d in dims):
            out[vi.name] = tuple(int(d) for d in dims)
    return out


def fold(onode: ONode, values: list[np.ndarray | None], opset: int) -> list[np.ndarray]:
    """One node's outputs from constant inputs, by onnx.reference (NumPy, no user code)."""
    ins = tuple(bool(n) for n in onode.inputs)
    outs_wanted = tuple(bool(o) for o in onode.outputs)
    attrs = tuple(sorted((k, helper.make_attribute(k, v).SerializeToString())
                         for k, v in onode.attrs.items()))
    ev = _evaluator(onode.op_type, onode.domain, opset, ins, outs_wanted, attrs)
    feeds = {f"i{k}": np.asarray(v) for k, (n, v) in enumerate(zip(onode.inputs, values,
                                                                      strict=True)) if n}
    outs = ev.run(None, feeds)
    vals = iter(np.asarray(o) for o in outs)
    return [next(vals) if o else None for o in onode.outputs]


@functools.lru_cache(maxsize=512)
def _evaluator(op_type: str, domain: str, opset: int, ins: tuple[bool, ...],
               outs: tuple[bool, ...], attrs: tuple[tuple[str, bytes], ...]) -> Any:
    """A ReferenceEvaluator for one node signature, built once (building one costs more than
    running it): a one-node model, so that the op's version is the model's opset (a bare
    NodeProto would be evaluated with the newest version of the op)."""
    from onnx.reference import ReferenceEvaluator

    in_names = [f"i{k}" if present else "" for k, present in enumerate(ins)]
    out_names = [f"o{k}" if present else "" for k, present in enumerate(outs)]
    nd = helper.make_node(op_type, in_names, out_names, domain=domain)
    for _, blob in attrs:
        a = onnx.AttributeProto()
        a.ParseFromString(blob)
        nd.attribute.append(a)
    g = helper.make_graph([nd], "fold", [onnx.ValueInfoProto(name=n) for n in in_names if n],
                          [onnx.ValueInfoProto(name=o) for o in out_names if o])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    return ReferenceEvaluator(m)


def _attrs(nd: onnx.NodeProto) -> dict:
    out = {}
    for a in nd.attribute:
        if a.ref_attr_name:
            raise NodeIssue("UNSUPPORTED_ATTRIBUTE", f"attribute {a.name!r} refers to a "
                            "function attribute")
        if a.type == onnx.AttributeProto.GRAPH or a.type == onnx.AttributeProto.GRAPHS:
            out[a.name] = helper.get_attribute_value(a)
            continue
        v = helper.get_attribute_value(a)
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        elif isinstance(v, list) and v and isinstance(v[0], bytes):
            v = [x.decode("utf-8", "replace") for x in v]
        out[a.name] = v
    return out


def _needed(model: onnx.ModelProto) -> tuple[list[onnx.NodeProto], set[str]]:
    """The nodes the graph outputs depend on (in graph order) and every tensor they read."""
    producer: dict[str, int] = {}
    for i, nd in enumerate(model.graph.node):
        for o in nd.output:
            if o:
                producer[o] = i
    want = [o.name for o in model.graph.output]
    used = set(want)
    keep: set[int] = set()
    stack = list(want)
    while stack:
        t = stack.pop()
        i = producer.get(t)
        if i is None or i in keep:
            continue
        keep.add(i)
        for x in model.graph.node[i].input:
            if x:
                used.add(x)
                stack.append(x)
    return [nd for i, nd in enumerate(model.graph.node) if i in keep], used


class ImportContext:
    """What importers may ask about the graph being converted (read-only for them)."""

    def __init__(self, opset: int, consts: dict[str, Tensor], used: set[str],
                 onnx_shapes: dict[str, tuple[int, ...]], names: set[str]):
        self.opset = opset
        self.consts = consts
        self._used = used
        self.onnx_shapes = onnx_shapes
        self.refs: dict[str, str] = {}                    # ONNX tensor -> IR ref
        self.shapes: dict[str, tuple[int, ...] | None] = {}   # IR ref -> shape
        self.broken: set[str] = set()
        self.names = names                                 # IR node names in use
        self.const_nodes: dict[tuple[str, str], str] = {}  # (tensor, dtype) -> IR ref
        self.new_nodes: list[Node] = []                    # Constant nodes made on demand
        self.new_weights: dict[str, Tensor] = {}

    def unique(self, base: str) -> str:
        name, k = base, 1
        while name in self.names:
            name, k = f"{base}_{k}", k + 1
        self.names.add(name)
        return name

    # -- the importer's view ---------------------------------------------------------------
    def has(self, name: str) -> bool:
        return bool(name)

    def is_const(self, name: str) -> bool:
        return bool(name) and name in self.consts

    def tensor(self, name: str, what: str = "") -> Tensor:
        if name in self.broken:
            raise _Broken(name)
        if name not in self.consts:
            raise NodeIssue("DYNAMIC_INPUT", f"{what or 'input'} {name!r} must be a constant "
                            "(an initializer, a Constant node, or computable from them); it is "
                            "computed at run time", grpc.StatusCode.UNIMPLEMENTED)
        return self.consts[name]

    def const(self, name: str, what: str = "") -> np.ndarray:
        return np.asarray(self.tensor(name, what).load())

    def ref(self, name: str, dtype: str = "float32") -> str:
        if name in self.broken:
            raise _Broken(name)
        if name in self.refs:
            return self.refs[name]
        if name in self.consts:
            t = self.consts[name]
            want = t.dtype if dtype == "any" else dtype
            key = (name, want)
            if key not in self.const_nodes:
                if want == "float32":
                    t = ir_float(t)
                    if t.dtype != "float32":
                        t = t.map(lambda a: np.asarray(a, dtype=np.float32), dtype="float32")
                elif t.dtype != want:
                    t = t.map(lambda a, w=want: np.asarray(a, dtype=w), dtype=want)
                n = Node(self.unique(sanitize(name)), "Constant", [],
                         {"_source_name": name, "_source_op": "Constant"})
                self.new_nodes.append(n)
                self.new_weights[f"{n.name}.value"] = t
                self.shapes[n.name] = tuple(t.shape)
                self.const_nodes[key] = n.name
            return self.const_nodes[key]
        raise NodeIssue("BAD_INPUT", f"input {name!r} is not produced by any earlier node, "
                        "initializer or graph input")

    def shape(self, name: str) -> tuple[int, ...] | None:
        if name in self.consts:
            return tuple(self.consts[name].shape)
        ref = self.refs.get(name)
        s = self.shapes.get(ref) if ref is not None else None
        if s is None:
            s = self.onnx_shapes.get(name)
        return s

    def need_shape(self, onode: ONode, name: str) -> tuple[int, ...]:
        if name in self.broken:
            raise _Broken(name)
        s = self.shape(name)
        if s is None:
            raise NodeIssue("UNKNOWN_SHAPE", f"{onode.label} needs the shape of {name!r}, "
                            "which could not be inferred")
        return s

    def used(self, name: str) -> bool:
        return name in self._used


def _renamed(ref: str, renames: dict[str, str]) -> str:
    name, idx = split_ref(ref)
    return make_ref(renames.get(name, name), idx)


def convert_model(loaded: Loaded) -> Conversion:
    model = loaded.model
    opset = loaded.opset
    issues: list[Issue] = list(loaded.issues)
    notes: list[str] = []
    nodes: list[Node] = []
    weights: dict[str, Tensor] = {}
    consts: dict[str, Tensor] = dict(loaded.initializers)
    needed, used = _needed(model)
    ctx = ImportContext(opset, consts, used, {}, set())

    # -- inputs ----------------------------------------------------------------------------
    in_map = input_name_map(model)
    by_onnx = {v: k for k, v in in_map.items()}
    fixed: dict[str, tuple[int, ...]] = {}
    for vi in model.graph.input:
        if vi.name not in by_onnx:
            continue
        ir_name = by_onnx[vi.name]
        tt = vi.type.tensor_type
        if not vi.type.HasField("tensor_type") or tt.elem_type not in FLOAT_TYPES:
            if vi.name in used:
                et = helper.tensor_dtype_to_string(tt.elem_type) if tt.elem_type else "?"
                issues.append(Issue("UNSUPPORTED_INPUT", vi.name, f"graph input {vi.name!r} "
                                    f"has type {et}; the IR takes float inputs"))
            ctx.broken.add(vi.name)
            continue
        shape = loaded.input_shapes.get(vi.name) or loaded.input_shapes.get(ir_name)
        if shape is None:
            dims = []
            for i, d in enumerate(tt.shape.dim):
                if d.HasField("dim_value") and d.dim_value > 0:
                    dims.append(int(d.dim_value))
                elif i == 0:
                    dims.append(1)
                    notes.append(f"input {vi.name!r}: free dimension 0 "
                                 f"({d.dim_param or '?'}) set to 1; set it with the option "
                                 f"input_shape=\"{vi.name}:...\"")
                else:
                    dims = None
                    break
            if dims is None or not tt.HasField("shape"):
                if vi.name in used:
                    issues.append(Issue("MISSING_INPUT_SHAPE", vi.name, f"input {vi.name!r} "
                                        "has free dimensions; pass its shape with the option "
                                        f"input_shape, e.g. input_shape=\"{vi.name}:1,3,224,"
                                        "224\" (several: \"a:1,3,224,224;b:1,10\")"))
                ctx.broken.add(vi.name)
                continue
            shape = tuple(dims)
        fixed[vi.name] = tuple(shape)
        n = Node(ir_name, "Input", [], {"shape": [int(d) for d in shape], "dtype": "float32",
                                        "_source_name": vi.name, "_source_op": "Input"})
        ctx.names.add(ir_name)
        nodes.append(n)
        ctx.refs[vi.name] = n.name
        ctx.shapes[n.name] = tuple(shape)
    for name in loaded.input_shapes:
        if name not in by_onnx and name not in in_map:
            issues.append(Issue("BAD_OPTION", "input_shape", f"the model has no input {name!r} "
                                f"(inputs: {sorted(by_onnx)})"))
    ctx.onnx_shapes = static_shapes(model, fixed)

    # -- node names: the ONNX name when unique, else from the first output -----------------
    counts: dict[str, int] = {}
    for nd in needed:
        counts[nd.name] = counts.get(nd.name, 0) + 1

    # -- nodes -----------------------------------------------------------------------------
    for nd in needed:
        label = nd.name or (nd.output[0] if nd.output else nd.op_type)
        domain = nd.domain if nd.domain not in DEFAULT_DOMAINS else ""
        if any(x in ctx.broken for x in nd.input if x):
            ctx.broken.update(o for o in nd.output if o)
            continue
        try:
            attrs = _attrs(nd)
        except NodeIssue as e:
            issues.append(Issue(e.code, label, f"{nd.op_type} node {label!r}: {e.message}"))
            ctx.broken.update(o for o in nd.output if o)
            continue
        base = nd.name if nd.name and counts.get(nd.name) == 1 else \
            (nd.output[0] if nd.output and nd.output[0] else nd.op_type)
        onode = ONode(sanitize(base), nd.op_type, domain, list(nd.input), list(nd.output),
                      attrs, opset, nd.name)
        # constant folding
        if not domain and nd.op_type not in NO_FOLD and \
                all(not x or x in consts for x in nd.input):
            try:
                vals = fold(onode, [consts[x].load() if x else None for x in nd.input], opset)
                for o, v in zip(nd.output, vals, strict=False):
                    if o:
                        consts[o] = Tensor.of(v)
                continue
            except Exception as e:  # noqa: BLE001 - reported below if nothing imports it
                fold_error = f"{type(e).__name__}: {e}"
        else:
            fold_error = ""
        imp = find(nd.op_type, opset) if not domain else None
        if imp is None:
            where = f"{domain}::{nd.op_type}" if domain else nd.op_type
            if fold_error:
                msg = (f"{where} node {label!r} (opset {opset}): its inputs are constant but "
                       f"folding it failed ({fold_error[:300]})")
                issues.append(Issue("FOLD_FAILED", label, msg))
            else:
                ranges = [f"{i.since}..{i.until or ''}" for i in
                          find_all(nd.op_type)] if not domain else []
                why = (f"the ONNX frontend imports {nd.op_type} only at opsets "
                       f"{', '.join(ranges)}") if ranges else \
                    "which the ONNX frontend does not support"
                if domain:
                    why = f"domain {domain!r} is not supported (only the default ONNX domain)"
                issues.append(Issue("UNSUPPORTED_OP", label, f"op {where} (opset {opset}) in "
                                    f"node {label!r}: {why}"))
            ctx.broken.update(o for o in nd.output if o)
            continue
        onode.name = ctx.unique(onode.name)
        ctx.new_nodes, ctx.new_weights = [], {}
        try:
            out: Out = imp.fn(onode, ctx)
        except _Broken:
            ctx.broken.update(o for o in nd.output if o)
            continue
        except NodeIssue as e:
            issues.append(Issue(e.code, label, e.message if label in e.message or
                                onode.label in e.message else f"{onode.label}: {e.message}"))
            ctx.broken.update(o for o in nd.output if o)
            continue
        missing = [n.op for n in out.nodes if not registry.has(n.op)]
        if missing:
            issues.append(Issue("UNSUPPORTED_OP", label, f"op {nd.op_type} (opset {opset}) in "
                                f"node {label!r} needs IR op(s) {sorted(set(missing))}, which "
                                "this nnrosetta's IR registry does not have"))
            ctx.broken.update(o for o in nd.output if o)
            continue
        # unique IR names for the importer's nodes (the first one already has its name)
        renames: dict[str, str] = {}
        kept_own = False
        for n in out.nodes:
            if n.name == onode.name and not kept_own:
                kept_own = True
                continue
            new = ctx.unique(n.name)
            if new != n.name:
                renames[n.name] = new
                n.name = new
        for n in out.nodes:
            n.inputs = [_renamed(r, renames) for r in n.inputs]
        new_nodes = ctx.new_nodes + out.nodes
        new_w = dict(ctx.new_weights)
        for tname, t in out.weights.items():
            node_name, _, role = tname.rpartition(".")
            new_w[f"{renames.get(node_name, node_name)}.{role}"] = t
        outs = out.outputs
        if outs is None:
            last = out.nodes[-1]
            outs = [make_ref(last.name, i) for i in range(len(nd.output))]
        else:
            outs = [_renamed(r, renames) if isinstance(r, str) else r for r in outs]
        ok = _infer(out.nodes, new_w, ctx, label, issues)
        nodes.extend(new_nodes)
        weights.update(new_w)
        for o, v in zip(nd.output, outs, strict=False):
            if not o:
                continue
            if v is None:
                ctx.broken.add(o)
            elif isinstance(v, str):
                ctx.refs[o] = v
                if not ok:
                    ctx.broken.add(o)
            else:
                consts[o] = Tensor.of(np.asarray(v))

    # -- graph outputs ---------------------------------------------------------------------
    ctx.new_nodes, ctx.new_weights = [], {}
    outputs: list[str] = []
    for vi in model.graph.output:
        name = vi.name
        if name in ctx.broken:
            continue
        if name in ctx.refs and name in fixed:    # a graph input that is also an output
            n = Node(ctx.unique(sanitize(name) + "_out"), "Identity", [ctx.refs[name]],
                     {"_source_name": name, "_source_op": "Identity"})
            ctx.new_nodes.append(n)
            ctx.shapes[n.name] = ctx.shapes.get(ctx.refs[name])
            outputs.append(n.name)
        elif name in ctx.refs or name in consts:
            outputs.append(ctx.ref(name, "any"))
            if name not in ctx.refs:
                notes.append(f"graph output {name!r} is a constant")
        else:
            issues.append(Issue("BAD_OUTPUT", name, f"graph output {name!r} is not produced "
                                "by any node"))
    nodes.extend(ctx.new_nodes)
    weights.update(ctx.new_weights)

    graph = Graph(nodes, outputs, {"framework": "onnx", "source_format": "onnx",
                                   "producer": "nnrosetta frontend-onnx",
                                   "onnx_opset": str(opset),
                                   "onnx_producer": f"{model.producer_name} "
                                                    f"{model.producer_version}".strip()})
    graph.tensors = {k: TensorInfo(k, t.dtype, tuple(t.shape)) for k, t in weights.items()}
    notes = list(loaded.notes) + notes
    if issues and loaded.checker_error:
        issues.append(Issue("INVALID_MODEL", "network", loaded.checker_error))
    if not issues:
        try:
            registry.infer_shapes(graph)
        except ValueError as e:
            issues.append(Issue("BAD_SHAPE", "<graph>", str(e)))
        for where, problem in registry.validate(graph):
            issues.append(Issue("INVALID_IR", where, problem))
    return Conversion(graph, weights, issues, notes, _status(issues), in_map)


def find_all(op_type: str):
    from nnrosetta_frontend_onnx.importers import all_importers

    return all_importers().get(op_type, [])


def _infer(new_nodes: list[Node], weights: dict[str, Tensor], ctx: ImportContext,
           label: str, issues: list[Issue]) -> bool:
    """Shapes of the new nodes' outputs (from the IR registry), recorded per ref."""
    for n in new_nodes:
        schema = registry.get(n.op)
        ins = [ctx.shapes.get(r, ctx.shapes.get(split_ref(r)[0]) if split_ref(r)[1] == 0
                              else None) for r in n.inputs]
        if any(s is None for s in ins):
            outs = [None] * max(1, schema.num_outputs(n.attrs))
        else:
            prefix = n.name + "."
            ws = {k[len(prefix):]: t.shape for k, t in weights.items()
                  if k.startswith(prefix) and "." not in k[len(prefix):]}
            try:
                outs = schema.infer_node(n, ins, ws)
            except Exception as e:  # noqa: BLE001 - becomes an issue
                issues.append(Issue("BAD_SHAPE", label, f"IR {n.op} ({n.name}) cannot take "
                                    f"input shapes {[list(s) for s in ins]}: {e}"))
                return False
        for i, s in enumerate(outs):
            ctx.shapes[make_ref(n.name, i)] = None if s is None else tuple(int(d) for d in s)
    return True
