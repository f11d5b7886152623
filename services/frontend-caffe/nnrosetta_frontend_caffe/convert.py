"""Caffe net -> IR graph: walks the layers in order, tracks blob name -> current IR ref (so
in-place layers are ordinary), dispatches to the per-type converters, fuses BatchNorm+Scale,
and collects every issue instead of stopping at the first."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import grpc
import numpy as np

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Graph, Node, TensorInfo, make_ref, split_ref
from nnrosetta.rpc.errors import Issue
from nnrosetta_frontend_caffe.caffemodel import BlobRef
from nnrosetta_frontend_caffe.layers import Layer, LayerIssue, Out, Tensor, all_converters
from nnrosetta_frontend_caffe.netspec import DATA_TYPES, SKIP_TYPES, NetSpec, in_test_phase, is_loss

UNIMPLEMENTED_CODES = {"UNSUPPORTED_LAYER", "UNSUPPORTED_PARAM"}


class _Broken(Exception):
    """A bottom comes from a layer that already failed: skip quietly (reported once)."""


@dataclass
class Conversion:
    graph: Graph
    weights: dict[str, Tensor]
    issues: list[Issue]
    notes: list[str]                       # progress messages (skipped layers, fusions)
    status: grpc.StatusCode = grpc.StatusCode.OK
    source_names: dict[str, str] = field(default_factory=dict)   # IR ref -> Caffe layer

    def iter_weights(self) -> Iterator[tuple[str, np.ndarray]]:
        for name, t in self.weights.items():
            if t.load is None:
                raise RuntimeError(f"weight {name} has no data (no caffemodel)")
            a = np.ascontiguousarray(t.load(), dtype=np.float32)
            if tuple(a.shape) != tuple(t.shape):
                a = a.reshape(t.shape)
            yield name, a


def _shapes_match(have: tuple[int, ...], want: tuple[int | None, ...], legacy: bool) -> bool:
    if len(have) == len(want) and all(w is None or h == w for h, w in zip(have, want, strict=True)):
        return True
    if None in want:
        return False
    if legacy and len(want) <= 4 and tuple(have) == (1,) * (4 - len(want)) + tuple(want):
        return True
    # older files store e.g. a [C] vector as (1, C, 1, 1): same values, same order
    return int(np.prod(have)) == int(np.prod(want)) and \
        [d for d in have if d != 1] == [d for d in want if d != 1]


class ConvertContext:
    """What converters may ask about the net being converted (read-only for them)."""

    def __init__(self, blobs: dict[str, list[BlobRef]] | None, buf,
                 input_shapes: dict[str, tuple[int, ...]], options: dict[str, str],
                 need_data: bool):
        self._blobs = blobs
        self._buf = buf
        self._input_shapes = input_shapes
        self.options = options
        self.need_data = need_data
        self.refs: dict[str, str] = {}                 # blob -> IR ref
        self.shapes: dict[str, tuple[int, ...] | None] = {}   # IR ref -> shape
        self.broken: set[str] = set()                 # blobs from failed layers
        self.missing_inputs: dict[str, str] = {}      # blob -> message (no shape given)

    def ref(self, blob: str) -> str:
        if blob in self.missing_inputs:
            raise LayerIssue("MISSING_INPUT_SHAPE", self.missing_inputs[blob])
        if blob in self.broken:
            raise _Broken(blob)
        if blob not in self.refs:
            raise LayerIssue("BAD_BOTTOM", f"bottom blob {blob!r} is not produced by any "
                             "earlier layer (or net input)")
        return self.refs[blob]

    def shape(self, blob: str) -> tuple[int, ...] | None:
        return self.shapes.get(self.ref(blob))

    def has_blob(self, layer: Layer, index: int) -> bool:
        return self._blobs is not None and index < len(self._blobs.get(layer.name, []))

    def blob(self, layer: Layer, index: int, expected: tuple[int | None, ...],
             what: str) -> Tensor:
        if self._blobs is None:
            if self.need_data:
                raise LayerIssue("MISSING_WEIGHTS", f"{layer.type} layer {layer.name!r} needs "
                                 "weights: send the caffemodel with role 'weights'")
            if None in expected:
                raise LayerIssue("UNKNOWN_SHAPE", f"{layer.type} layer {layer.name!r}: the "
                                 f"shape of its {what} blob cannot be inferred without the "
                                 "caffemodel")
            return Tensor(tuple(int(d) for d in expected))
        blobs = self._blobs.get(layer.name, [])
        if index >= len(blobs):
            raise LayerIssue("MISSING_WEIGHTS", f"{layer.type} layer {layer.name!r}: blob "
                             f"#{index} ({what}) is not in the caffemodel (the layer has "
                             f"{len(blobs)} blobs there)")
        b = blobs[index]
        if not _shapes_match(b.shape, expected, b.legacy):
            want = tuple("?" if d is None else d for d in expected)
            raise LayerIssue("BAD_SHAPE", f"{layer.type} layer {layer.name!r}: blob #{index} "
                             f"({what}) has shape {list(b.shape)} in the caffemodel, but the "
                             f"prototxt implies {list(want)}")
        n = int(np.prod(b.shape)) if b.shape else 0
        if b.count != n:
            raise LayerIssue("BAD_SHAPE", f"{layer.type} layer {layer.name!r}: blob #{index} "
                             f"({what}) has {b.count} values but its shape {list(b.shape)} "
                             f"needs {n}")
        if len(b.shape) == len(expected):
            shape = tuple(int(w) if w is not None else int(h)
                          for h, w in zip(b.shape, expected, strict=True))
        else:
            shape = tuple(int(d) for d in expected)
        buf = self._buf
        return Tensor(shape, lambda: b.load(buf).reshape(shape))

    def input_shape(self, blob: str, declared: tuple[int, ...] | None) -> tuple[int, ...]:
        if blob in self._input_shapes:
            return self._input_shapes[blob]
        if declared:
            return tuple(int(d) for d in declared)
        raise LayerIssue("MISSING_INPUT_SHAPE", missing_shape_message(blob))


def missing_shape_message(blob: str) -> str:
    return (f"input {blob!r} has no shape in the prototxt; pass it with the option "
            f"input_shape, e.g. input_shape=\"{blob}:1,3,224,224\" (several: "
            "\"a:1,3,224,224;b:1,10\")")


def _issue_status(issues: list[Issue]) -> grpc.StatusCode:
    if not issues:
        return grpc.StatusCode.OK
    if all(i.code in UNIMPLEMENTED_CODES for i in issues):
        return grpc.StatusCode.UNIMPLEMENTED
    if any(i.code in UNIMPLEMENTED_CODES for i in issues) and \
            not any(i.code in ("SYNTAX", "TRUNCATED", "BAD_SHAPE") for i in issues):
        return grpc.StatusCode.UNIMPLEMENTED
    return grpc.StatusCode.INVALID_ARGUMENT


def convert_net(spec: NetSpec, *, blobs: dict[str, list[BlobRef]] | None, buf,
                input_shapes: dict[str, tuple[int, ...]], options: dict[str, str],
                need_data: bool, source_format: str = "caffe") -> Conversion:
    convs = all_converters()
    ctx = ConvertContext(blobs, buf, input_shapes, options, need_data)
    issues = list(spec.issues)
    notes: list[str] = []
    nodes: list[Node] = []
    weights: dict[str, Tensor] = {}
    used_names: set[str] = set()
    layer_tops: list[str] = []     # IR refs produced by layers, in prototxt order

    def add_input(blob: str, shape: tuple[int, ...], source: str, op: str) -> None:
        n = Node(blob, "Input", [], {"shape": [int(d) for d in shape], "dtype": "float32",
                                     "_source_name": source, "_source_op": op})
        nodes.append(n)
        used_names.add(n.name)
        ctx.refs[blob] = n.name
        ctx.shapes[n.name] = tuple(int(d) for d in shape)

    for name, declared in spec.inputs:
        if name in input_shapes:
            add_input(name, input_shapes[name], name, "Input")
        elif declared:
            add_input(name, declared, name, "Input")
        else:
            ctx.missing_inputs[name] = missing_shape_message(name)

    for layer in spec.layers:
        lname = layer.name or f"{layer.type}_{layer.index}"
        if not in_test_phase(layer.param):
            notes.append(f"skipped {layer.type} layer {lname!r} (not in the TEST phase)")
            continue
        if is_loss(layer.type) or layer.type in SKIP_TYPES:
            notes.append(f"skipped {layer.type} layer {lname!r} (training/evaluation only)")
            continue
        if layer.type in DATA_TYPES:
            for top in layer.top:
                shape = input_shapes.get(top) or _data_layer_shape(layer, top)
                if shape:
                    add_input(top, shape, lname, layer.type)
                    notes.append(f"{layer.type} layer {lname!r}: top {top!r} becomes an IR "
                                 f"input of shape {list(shape)}")
                else:
                    ctx.missing_inputs[top] = missing_shape_message(top)
                    notes.append(f"skipped {layer.type} layer {lname!r} top {top!r} (no "
                                 "input shape given)")
            continue
        fn = convs.get(layer.type)
        if fn is None:
            issues.append(Issue("UNSUPPORTED_LAYER", lname, f"layer {lname!r} has type "
                                f"{layer.type!r}, which the Caffe frontend does not support"))
            ctx.broken.update(layer.top)
            continue
        try:
            out: Out = fn(layer, ctx)
        except _Broken:
            ctx.broken.update(layer.top)
            continue
        except LayerIssue as e:
            issues.append(Issue(e.code, lname, e.message))
            ctx.broken.update(layer.top)
            continue
        # unique IR node names (Caffe does not enforce unique layer names)
        renames: dict[str, str] = {}
        for n in out.nodes:
            if n.name in used_names:
                k = 1
                while f"{n.name}_{k}" in used_names:
                    k += 1
                renames[n.name] = f"{n.name}_{k}"
                n.name = renames[n.name]
            used_names.add(n.name)
            n.attrs.setdefault("_source_name", lname)
            n.attrs.setdefault("_source_op", layer.type)
        for tname, t in out.weights.items():
            node_name, _, role = tname.rpartition(".")
            weights[f"{renames.get(node_name, node_name)}.{role}"] = t
        tops = out.tops
        if tops is None:
            last = out.nodes[-1]
            tops = [make_ref(last.name, i) for i in range(len(layer.top))]
        else:
            tops = [_renamed(r, renames) for r in tops]
        ok = _infer(out.nodes, weights, ctx, lname, issues)
        nodes.extend(out.nodes)
        for top, ref in zip(layer.top, tops, strict=False):
            ctx.refs[top] = ref
            ctx.broken.discard(top)
            ctx.missing_inputs.pop(top, None)
            if not ok:
                ctx.broken.add(top)
            if ref not in layer_tops:
                layer_tops.append(ref)

    graph = Graph(nodes, [], {"framework": "caffe", "source_format": source_format,
                              "producer": "nnrosetta frontend-caffe"})
    fused, rename = fuse_batchnorm_scale(graph, weights)
    notes.extend(fused)
    layer_tops = list(dict.fromkeys(_renamed(r, rename) for r in layer_tops))
    graph.tensors = {k: TensorInfo(k, t.dtype, tuple(t.shape)) for k, t in weights.items()}
    consumed = {r if ":" in r else make_ref(*split_ref(r)) for n in graph.nodes
                for r in n.inputs}
    names = {n.name for n in graph.nodes}
    input_names = {n.name for n in graph.nodes if n.op == "Input"}
    outs = []
    for ref in layer_tops:
        src = split_ref(ref)[0]
        if src in names and src not in input_names and ref not in consumed and ref not in outs:
            outs.append(ref)
    graph.outputs = outs
    if not issues:
        try:
            registry.infer_shapes(graph)
        except ValueError as e:
            issues.append(Issue("BAD_SHAPE", "<graph>", str(e)))
        for where, problem in registry.validate(graph):
            issues.append(Issue("INVALID_IR", where, problem))
    source_names = {n.name: n.attrs.get("_source_name", n.name) for n in graph.nodes}
    return Conversion(graph, weights, issues, notes, _issue_status(issues), source_names)


def _renamed(ref: str, renames: dict[str, str]) -> str:
    name, idx = split_ref(ref)
    return make_ref(renames.get(name, name), idx)


def _data_layer_shape(layer: Layer, top: str) -> tuple[int, ...] | None:
    p = layer.param
    if layer.type == "MemoryData" and top == (layer.top[0] if layer.top else None):
        m = p.memory_data_param
        if m.batch_size and m.channels and m.height and m.width:
            return (m.batch_size, m.channels, m.height, m.width)
    if layer.type == "DummyData":
        d = p.dummy_data_param
        i = layer.top.index(top)
        if len(d.shape):
            return tuple(int(x) for x in d.shape[min(i, len(d.shape) - 1)].dim)
        if len(d.num):
            j = min(i, len(d.num) - 1)
            return (d.num[j], d.channels[j], d.height[j], d.width[j])
    return None


def _infer(new_nodes: list[Node], weights: dict[str, Tensor], ctx: ConvertContext,
           lname: str, issues: list[Issue]) -> bool:
    """Shapes of the new nodes' outputs (from the IR registry), recorded per ref."""
    for n in new_nodes:
        if not registry.has(n.op):
            issues.append(Issue("INVALID_IR", lname, f"IR op {n.op!r} is not in the registry"))
            return False
        schema = registry.get(n.op)
        ins = [ctx.shapes.get(r) for r in n.inputs]
        if n.op == "Input":
            outs = [tuple(n.attrs["shape"])]
        elif any(s is None for s in ins):
            outs = [None] * max(1, schema.num_outputs(n.attrs))
        else:
            prefix = n.name + "."
            ws = {k[len(prefix):]: t.shape for k, t in weights.items() if k.startswith(prefix)}
            try:
                outs = schema.infer_fn(schema.with_defaults(n.attrs), ins, ws)
            except Exception as e:  # noqa: BLE001 - becomes an issue
                issues.append(Issue("BAD_SHAPE", lname, f"{n.op} cannot take input shapes "
                                    f"{[list(s) for s in ins]}: {e}"))
                return False
        for i, s in enumerate(outs):
            ctx.shapes[make_ref(n.name, i)] = None if s is None else tuple(int(d) for d in s)
    return True


def fuse_batchnorm_scale(graph: Graph, weights: dict[str, Tensor],
                         ) -> tuple[list[str], dict[str, str]]:
    """BatchNorm followed by a Scale that is its only consumer -> one IR BatchNorm with
    scale (and bias); the fused node keeps the BatchNorm's name and gets the Scale layer as
    _source_name (its output is the Scale's)."""
    notes = []
    by_name = graph.node_map()
    consumers = graph.consumers()
    drop: set[str] = set()
    rename: dict[str, str] = {}
    for s in graph.nodes:
        if s.op != "Scale" or len(s.inputs) != 1:
            continue
        bn_name, idx = split_ref(s.inputs[0])
        bn = by_name.get(bn_name)
        if bn is None or bn.op != "BatchNorm" or idx != 0 or bn_name in drop:
            continue
        if [c.name for c in consumers.get(bn_name, [])] != [s.name]:
            continue
        if f"{bn.name}.scale" in weights:
            continue
        scale = weights.get(f"{s.name}.scale")
        mean = weights.get(f"{bn.name}.mean")
        if scale is None or mean is None or s.attrs.get("axis", 1) != 1 or \
                tuple(scale.shape) != tuple(mean.shape):
            continue
        weights[f"{bn.name}.scale"] = weights.pop(f"{s.name}.scale")
        if f"{s.name}.bias" in weights:
            weights[f"{bn.name}.bias"] = weights.pop(f"{s.name}.bias")
        bn.attrs["_source_name"] = s.attrs.get("_source_name", s.name)
        bn.attrs["_source_op"] = "BatchNorm+Scale"
        drop.add(s.name)
        rename[s.name] = bn.name
        notes.append(f"fused BatchNorm {bn.name!r} with Scale {s.attrs.get('_source_name')!r}")
    if drop:
        graph.nodes = [n for n in graph.nodes if n.name not in drop]
        for n in graph.nodes:
            n.inputs = [_renamed(r, rename) for r in n.inputs]
    return notes, rename
