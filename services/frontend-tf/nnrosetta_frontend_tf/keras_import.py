"""Keras model -> IR graph: walks the layer calls in order (nested models opened up),
dispatches each to its importer (``layers/``), tracks the layout of every tensor, and
collects every issue instead of stopping at the first.

Layout: the IR is channels-first. An image input (rank 4 or 5, and rank 3 when the model has
1-D convolution / pooling layers) becomes an IR ``Input`` in NCHW (``_source_perm`` [0, 3, 1,
2]); every tensor remembers how its IR value relates to the Keras tensor (``perm``: IR =
source.transpose(perm)), importers ask for their inputs in the layout they need, and a
Transpose is emitted only where a layer needs another layout than the one held (a Reshape,
a Dense on the last axis of a sequence, ...). A Flatten read only by Dense layers flattens the
channels-first tensor as it is and the Dense weight rows are permuted instead.

Weights stay in the Keras variables until they are streamed (``Tensor.load``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Graph, Node, TensorInfo, make_ref, split_ref
from nnrosetta.options import parse_input_shapes
from nnrosetta.rpc.errors import Issue
from nnrosetta_frontend_tf import compat
from nnrosetta_frontend_tf.conversion import Conversion
from nnrosetta_frontend_tf.layers import LAYERS, all_layers
from nnrosetta_frontend_tf.layers._base import (
    LayerCall,
    LayerIssue,
    Out,
    Tensor,
    channels_first_perm,
    inverse,
    layer_config,
)
from nnrosetta_frontend_tf.walk import Call, Walk, WalkError, walk

# layers that pass a tensor through unchanged at inference (Flatten -> Dropout -> Dense still
# folds the Flatten into the Dense weights)
PASS_THROUGH = {"Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization",
                "Identity"}
# layers over 1 spatial axis: a rank-3 input of a model that has one is N, W, C (channels-last)
SPATIAL_1D = {"Conv1D", "Conv1DTranspose", "SeparableConv1D", "DepthwiseConv1D",
              "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling1D",
              "GlobalMaxPooling1D", "ZeroPadding1D", "Cropping1D", "UpSampling1D",
              "LocallyConnected1D", "MaxPool1D", "AvgPool1D", "GlobalAvgPool1D",
              "GlobalMaxPool1D"}


class _Broken(Exception):
    """An input comes from a layer that already failed: skip quietly (reported once)."""


def sanitize(name: str) -> str:
    """An IR node name from a Keras name: ':' would read as an output index, '.' as a weight
    role."""
    s = re.sub(r"[:.\s/]+", "_", name).strip("_")
    return s or "node"


@dataclass
class Val:
    """A tensor of the Keras graph as held in the IR."""

    ref: str
    shape: tuple[int, ...]                  # IR shape
    perm: tuple[int, ...] | None = None     # IR = source.transpose(perm)
    features: np.ndarray | None = None      # see OutVal
    layouts: dict = field(default_factory=dict, repr=False)   # perm -> Val (cached copies)

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def src_shape(self) -> tuple[int, ...]:
        """The Keras (source-layout) shape."""
        if self.perm is None:
            return self.shape
        inv = inverse(self.perm)
        return tuple(self.shape[inv[i]] for i in range(self.rank))

    def ir_axis(self, src_axis: int) -> int:
        """The IR axis holding the Keras axis ``src_axis`` (negative counts from the end)."""
        a = src_axis % self.rank
        return a if self.perm is None else self.perm.index(a)

    def ir_perm(self) -> tuple[int, ...]:
        return self.perm if self.perm is not None else tuple(range(self.rank))


class ImportContext:
    """What importers may ask: their inputs (in a layout), shapes, their readers; and make
    nodes. Nodes a layout change needs are kept in ``pending`` and go before the
    importer's."""

    def __init__(self, w: Walk, names: set[str]):
        self.walk = w
        self.names = names
        self.vals: dict[int, Val] = {}
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.broken: set[int] = set()
        self.call: Call | None = None
        self.pending: list[Node] = []
        self.pending_w: dict[str, Tensor] = {}
        self.cached: list[tuple[Val, Any]] = []     # layout copies made for this call
        self.output_keys = set(w.outputs)
        self.channels_first_model, self.has_1d = _channels_last_model(w)

    # -- naming ----------------------------------------------------------------------------
    def unique(self, base: str) -> str:
        base = sanitize(base)
        name, k = base, 1
        while name in self.names:
            name, k = f"{base}_{k}", k + 1
        self.names.add(name)
        return name

    def node(self, call: LayerCall, op: str, inputs: list[str], suffix: str = "",
             **attrs: Any) -> Node:
        """A new IR node for this layer (named after it; ``suffix`` for helper nodes)."""
        n = Node(self.unique(call.name + (f"_{suffix}" if suffix else "")), op, list(inputs),
                 dict(attrs))
        n.attrs["_source_op"] = call.key
        return n

    # -- inputs ----------------------------------------------------------------------------
    def _val(self, i: int) -> Val:
        key = self.call.inputs[i]
        if key in self.broken:
            raise _Broken()
        return self.vals[key]

    def raw(self, i: int) -> Val:
        """Input i as held (its features possibly permuted: only Dense and pass-through
        layers ask for this)."""
        return self._val(i)

    def input(self, i: int) -> Val:
        """Input i in whatever axis layout it is held in (features in source order)."""
        v = self._val(i)
        if v.features is not None:
            v = self._unscramble(v)
        return v

    def as_perm(self, i: int | Val, perm: tuple[int, ...] | None) -> Val:
        """Input i held so that IR = source.transpose(perm) (None: the source layout)."""
        v = self.input(i) if isinstance(i, int) else i
        want = tuple(perm) if perm is not None else tuple(range(v.rank))
        have = v.ir_perm()
        if want == have:
            return v
        if want in v.layouts:
            return v.layouts[want]
        inv = inverse(have)
        t = [inv[q] for q in want]         # IR' = IR.transpose(t)
        shape = tuple(v.shape[a] for a in t)
        name = self.unique(split_ref(v.ref)[0] + "_to_" + _perm_tag(want))
        moved = [a for a in t if v.shape[a] != 1]
        if moved == sorted(moved):          # only size-1 dims move: a reshape will do
            n = Node(name, "Reshape", [v.ref], {"shape": list(shape)})
        else:
            n = Node(name, "Transpose", [v.ref], {"perm": list(t)})
        n.attrs["_source_op"] = "layout"
        self.pending.append(n)
        self.shapes[n.name] = shape
        out = Val(n.name, shape, None if want == tuple(range(v.rank)) else want)
        v.layouts[want] = out
        self.cached.append((v, want))
        return out

    def channels_first(self, i: int | Val, data_format: str | None = "channels_last") -> Val:
        """Input i with its channels at IR axis 1 (Keras' data_format says where they are in
        the source)."""
        v = self.input(i) if isinstance(i, int) else i
        if v.rank < 3 or data_format == "channels_first":
            return self.as_perm(v, None)
        return self.as_perm(v, channels_first_perm(v.rank))

    def source_layout(self, i: int | Val) -> Val:
        return self.as_perm(i, None)

    def aligned(self, idxs: list[int]) -> list[Val]:
        """Inputs held in one layout (that of the first input with the highest rank)."""
        vals = [self.input(i) for i in idxs]
        ref = max(vals, key=lambda v: v.rank)
        out = []
        for v in vals:
            if v.rank == ref.rank:
                out.append(self.as_perm(v, ref.perm))
            elif v.rank <= 1 or v.perm is None and ref.perm is None:
                out.append(v)
            else:
                raise LayerIssue("BAD_SHAPE", f"inputs of ranks {[x.rank for x in vals]} "
                                 "cannot be aligned")
        return out

    def _unscramble(self, v: Val) -> Val:
        """Features back in source order: a Gather along axis 1."""
        if "src" in v.layouts:
            return v.layouts["src"]
        base = split_ref(v.ref)[0]
        c = Node(self.unique(base + "_order"), "Constant", [], {"_source_op": "layout"})
        g = Node(self.unique(base + "_unpermuted"), "Gather", [v.ref, c.name],
                 {"axis": 1, "_source_op": "layout"})
        order = np.argsort(v.features).astype(np.int64)
        self.pending_w[f"{c.name}.value"] = Tensor.of(order)
        self.pending.extend([c, g])
        self.shapes[c.name] = order.shape
        self.shapes[g.name] = v.shape
        out = Val(g.name, v.shape, v.perm)
        v.layouts["src"] = out
        self.cached.append((v, "src"))
        return out

    # -- questions -------------------------------------------------------------------------
    def readers(self, call: LayerCall) -> tuple[list[str], bool]:
        """(registry keys of the layers that read this call's outputs, looking through
        pass-through layers; whether any of those tensors is a model output)."""
        keys: list[str] = []
        is_out = False
        stack = list(self.call.outputs)
        seen: set[int] = set()
        while stack:
            k = stack.pop()
            if k in seen:
                continue
            seen.add(k)
            if k in self.output_keys:
                is_out = True
            for c in self.walk.consumers.get(k, []):
                if c.key in PASS_THROUGH:
                    stack.extend(c.outputs)
                else:
                    keys.append(c.key)
        return keys, is_out

    def forget_pending(self) -> None:
        """The call failed: its layout copies never reach the graph."""
        for v, key in self.cached:
            v.layouts.pop(key, None)
        self.cached = []

    def shape(self, ref: str) -> tuple[int, ...]:
        return self.shapes[ref]

    def prefers_channels_first(self, rank: int) -> bool:
        """Whether a tensor of this rank is best held channels-first (as image inputs)."""
        return input_perm(rank, self.channels_first_model, self.has_1d) is not None


def _perm_tag(perm: tuple[int, ...]) -> str:
    if perm == tuple(range(len(perm))):
        return "source"
    if perm == channels_first_perm(len(perm)):
        return "nchw"
    return "p" + "".join(str(p) for p in perm)


def _channels_last_model(w: Walk) -> tuple[bool, bool]:
    """(any layer says data_format channels_first, the model has 1-D spatial layers)."""
    cf, has1d = False, False
    for c in w.calls:
        fmt = getattr(c.layer, "data_format", None)
        if fmt == "channels_first":
            cf = True
        if c.key in SPATIAL_1D:
            has1d = True
    return cf, has1d


def input_perm(rank: int, channels_first_model: bool, has_1d: bool) -> tuple[int, ...] | None:
    if channels_first_model:
        return None
    if rank in (4, 5) or (rank == 3 and has_1d):
        return channels_first_perm(rank)
    return None


def convert_walk(w: Walk, options: dict[str, str], metadata: dict[str, str] | None = None,
                 ) -> Conversion:
    """The IR graph of a walked Keras model; weights stay lazy (``Conversion.weights`` holds
    ``Tensor``s until ``iter_weights``). With issues, the graph is what could be built (Run
    reads its names and layouts)."""
    all_layers()
    issues: list[Issue] = []
    notes: list[str] = []
    nodes: list[Node] = []
    weights: dict[str, Tensor] = {}
    ctx = ImportContext(w, set())

    # -- inputs ----------------------------------------------------------------------------
    try:
        wanted = parse_input_shapes(options.get("input_shape", ""), bare=True)
    except ValueError as e:
        wanted = {}
        issues.append(Issue("BAD_OPTION", "input_shape", f"{e}; expected "
                            "\"input:1,3,224,224;other:1,10\" (IR layout, channels first)"))
    cf_model, has1d = ctx.channels_first_model, ctx.has_1d
    ir_names = {}
    for d in w.inputs:
        ir_name = ctx.unique(d.name)
        ir_names[d.key] = ir_name
        rank = len(d.shape)
        perm = input_perm(rank, cf_model, has1d)
        src = list(d.shape)
        given = wanted.pop(d.name, None) or wanted.pop(ir_name, None)
        if given is None and "" in wanted and len(w.inputs) == 1:
            given = wanted.pop("")
        if given is not None:
            if len(given) == rank - 1:
                given = (1, *given)
            if len(given) != rank:
                issues.append(Issue("BAD_OPTION", "input_shape", f"input {d.name!r} has rank "
                                    f"{rank} (Keras shape {_fmt(d.shape)}); input_shape gives "
                                    f"{list(given)}"))
                ctx.broken.add(d.key)
                continue
            g_src = list(given) if perm is None else [given[inverse(perm)[i]]
                                                      for i in range(rank)]
            bad = [i for i in range(rank) if src[i] is not None and src[i] != g_src[i]
                   and i > 0]
            if bad:
                issues.append(Issue("BAD_OPTION", "input_shape", f"input {d.name!r}: "
                                    f"input_shape {list(given)} (IR layout) does not fit the "
                                    f"model's shape {_fmt(d.shape)} (Keras layout)"))
                ctx.broken.add(d.key)
                continue
            src = g_src
        else:
            if src and src[0] is None:
                src[0] = 1
                notes.append(f"input {d.name!r}: free batch dimension set to 1; set it with "
                             f"the option input_shape=\"{d.name}:"
                             f"{_example(d.shape, perm)}\"")
            if any(s is None for s in src):
                issues.append(Issue("MISSING_INPUT_SHAPE", d.name, f"input {d.name!r} has "
                                    f"free dimensions {_fmt(d.shape)} (Keras layout); pass its "
                                    f"shape with the option input_shape in IR layout (channels "
                                    f"first), e.g. input_shape=\"{d.name}:"
                                    f"{_example(d.shape, perm)}\""))
                ctx.broken.add(d.key)
                continue
        shape = tuple(int(s) for s in src)
        ir_shape = shape if perm is None else tuple(shape[p] for p in perm)
        dtype = d.dtype if d.dtype in ("float32", "float16", "float64", "int32", "int64",
                                       "bool", "uint8") else "float32"
        if dtype in ("float16", "float64"):
            dtype = "float32"
        attrs = {"shape": list(ir_shape), "dtype": dtype, "_source_name": d.name,
                 "_source_op": "InputLayer"}
        if perm is not None:
            attrs["_source_perm"] = list(perm)
        nodes.append(Node(ir_name, "Input", [], attrs))
        ctx.shapes[ir_name] = ir_shape
        ctx.vals[d.key] = Val(ir_name, ir_shape, perm)
    for name in wanted:
        issues.append(Issue("BAD_OPTION", "input_shape", f"the model has no input {name!r} "
                            f"(inputs: {[d.name for d in w.inputs]})" if name else
                            "a shape without a name needs a model with one input"))

    # -- layers ----------------------------------------------------------------------------
    for call in w.calls:
        if any(k in ctx.broken for k in call.inputs):
            ctx.broken.update(call.outputs)
            continue
        imp = LAYERS.get(call.key)
        if imp is None:
            issues.append(Issue("UNSUPPORTED_LAYER", call.name, f"{call.key} layer "
                                f"{call.name!r} is not supported by the Keras frontend (see "
                                "docs/keras-layers.md)"))
            ctx.broken.update(call.outputs)
            continue
        lc = LayerCall(call.layer, call.key, call.name, layer_config(call.layer), len(call.inputs),
                       call.args, call.kwargs)
        ctx.call = call
        ctx.pending, ctx.pending_w, ctx.cached = [], {}, []
        try:
            out: Out = imp.fn(lc, ctx)
        except _Broken:
            ctx.forget_pending()
            ctx.broken.update(call.outputs)
            continue
        except LayerIssue as e:
            msg = e.message if call.name in e.message else f"{lc.label}: {e.message}"
            issues.append(Issue(e.code, call.name, msg))
            ctx.forget_pending()
            ctx.broken.update(call.outputs)
            continue
        except Exception as e:  # noqa: BLE001 - an importer bug is one issue, not a crash
            issues.append(Issue("IMPORT_FAILED", call.name, f"{lc.label}: the importer failed "
                                f"({type(e).__name__}: {e}); please report it"))
            ctx.forget_pending()
            ctx.broken.update(call.outputs)
            continue
        missing = sorted({n.op for n in ctx.pending + out.nodes if not registry.has(n.op)})
        if missing:
            issues.append(Issue("UNSUPPORTED_LAYER", call.name, f"{lc.label} needs IR op(s) "
                                f"{missing}, which this nnrosetta's IR registry does not have"))
            ctx.forget_pending()
            ctx.broken.update(call.outputs)
            continue
        new_w = {**ctx.pending_w, **out.weights}
        if not _infer(out.nodes, new_w, ctx, lc, issues):
            ctx.forget_pending()
            ctx.broken.update(call.outputs)
            continue
        nodes.extend(ctx.pending)
        nodes.extend(out.nodes)
        weights.update(new_w)
        own = {n.name: n for n in out.nodes}
        if len(out.outputs) != len(call.outputs):
            issues.append(Issue("INTERNAL", call.name, f"{lc.label}: the importer gave "
                                f"{len(out.outputs)} outputs for {len(call.outputs)}"))
            ctx.broken.update(call.outputs)
            continue
        for k, ov in zip(call.outputs, out.outputs, strict=True):
            src = split_ref(ov.ref)[0]
            shape = ctx.shapes[ov.ref]
            perm = ov.perm if ov.perm is not None and tuple(ov.perm) != \
                tuple(range(len(shape))) else None
            ctx.vals[k] = Val(ov.ref, shape, None if perm is None else tuple(perm),
                              ov.features)
            n = own.get(src)
            if n is not None and split_ref(ov.ref)[1] == 0 and ov.features is None \
                    and "_source_name" not in n.attrs:
                n.attrs["_source_name"] = call.name
                if perm is not None:
                    n.attrs["_source_perm"] = list(perm)

    # -- outputs ---------------------------------------------------------------------------
    outputs: list[str] = []
    ctx.call = None
    for k, name in zip(w.outputs, w.output_names, strict=True):
        if k in ctx.broken:
            continue
        v = ctx.vals[k]
        if v.features is not None:
            ctx.pending, ctx.pending_w = [], {}
            v = ctx._unscramble(v)
            nodes.extend(ctx.pending)
            weights.update(ctx.pending_w)
        ref = v.ref
        if ref in ir_names.values() or ref in outputs:
            n = Node(ctx.unique(f"{name}_out"), "Identity", [ref],
                     {"_source_name": name, "_source_op": "Identity"})
            if v.perm is not None:
                n.attrs["_source_perm"] = list(v.perm)
            nodes.append(n)
            ctx.shapes[n.name] = v.shape
            ref = n.name
        outputs.append(ref)

    meta = {"framework": "tensorflow", "source_format": "keras",
            "producer": "nnrosetta frontend-tf", "keras_version": compat.keras_version(),
            "layout": "NCHW (converted from channels-last at the inputs)"}
    meta.update(metadata or {})
    graph = Graph(nodes, outputs, meta)
    graph.tensors = {k: TensorInfo(k, t.dtype, tuple(t.shape)) for k, t in weights.items()}
    if not issues:
        try:
            registry.infer_shapes(graph)
        except ValueError as e:
            issues.append(Issue("BAD_SHAPE", "<graph>", str(e)))
        for where, problem in registry.validate(graph):
            issues.append(Issue("INVALID_IR", where, problem))
    from nnrosetta_frontend_tf.kerasfile import status_of

    return Conversion(graph, weights, issues, status_of(issues), notes)


def _fmt(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ")"


def _example(shape, perm) -> str:
    ex = [1 if i == 0 else (d if d is not None else 224) for i, d in enumerate(shape)]
    if perm is not None:
        ex = [ex[p] for p in perm]
    return ",".join(str(d) for d in ex)


def _infer(new_nodes: list[Node], weights: dict[str, Tensor], ctx: ImportContext,
           call: LayerCall, issues: list[Issue]) -> bool:
    """Shapes of the importer's nodes (from the IR registry), recorded per ref."""
    for n in new_nodes:
        schema = registry.get(n.op)
        try:
            ins = [ctx.shapes[r] if r in ctx.shapes else ctx.shapes[split_ref(r)[0]]
                   for r in n.inputs]
        except KeyError as e:
            issues.append(Issue("INTERNAL", call.name, f"{call.label}: input {e} of IR node "
                                f"{n.name!r} has no shape"))
            return False
        prefix = n.name + "."
        ws = {k[len(prefix):]: t.shape for k, t in weights.items() if k.startswith(prefix)
              and "." not in k[len(prefix):]}
        try:
            outs = schema.infer_node(n, ins, ws)
        except Exception as e:  # noqa: BLE001 - becomes an issue
            issues.append(Issue("BAD_SHAPE", call.name, f"{call.label}: IR {n.op} ({n.name}) "
                                f"cannot take input shapes {[list(s) for s in ins]}: {e}"))
            return False
        for i, s in enumerate(outs):
            ctx.shapes[make_ref(n.name, i)] = tuple(int(d) for d in s)
    return True


def convert_keras(model, options: dict[str, str] | None = None,
                  metadata: dict[str, str] | None = None) -> Conversion:
    """The IR of a loaded Keras model (weights lazy until ``Conversion.iter_weights``)."""
    return walk_and_convert(model, options, metadata)[1]


def walk_and_convert(model, options: dict[str, str] | None = None,
                     metadata: dict[str, str] | None = None) -> tuple[Walk | None, Conversion]:
    """``convert_keras``, with the walk it made (None when the model cannot be walked)."""
    options = options or {}
    try:
        w = walk(model)
    except WalkError as e:
        from nnrosetta_frontend_tf.kerasfile import status_of

        issues = [Issue("BAD_GRAPH", "model", str(e))]
        return None, Conversion(None, {}, issues, status_of(issues))
    return w, convert_walk(w, options, metadata)
