"""IR graph -> readable Keras source (``model.py``) and the weights of its layers.

The generated file holds ``build_model()``, which builds a ``keras.Model`` with the functional
API: one ``keras.Input`` per IR input, then one statement per IR node in topological order, a
variable per node output, layers named after the IR nodes (``inception_3a/1x1`` ->
``inception_3a_1x1``). Module-level ``INPUTS`` / ``OUTPUTS`` list the IR names, and
``INPUT_PERMS`` / ``OUTPUT_PERMS`` how each Keras tensor lays out its IR tensor.

Layout: the model is channels-last. Each value carries a ``Layout`` (layout.py); emitters ask
for their inputs in the layout they need (``Emit.arg``), and a conversion (a ``Permute``, or a
``Reshape`` when only size-1 axes move) is written only where a value is not already in it.

Weights are not in the source: ``Generated.weights`` maps each layer name to the arrays of
``layer.set_weights`` (service.py assigns them and writes the files). Each op's code comes from
its emitter (``nnrosetta_backend_tf.emitters``).
"""

from __future__ import annotations

import builtins
import json
import keyword
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Graph, Node, make_ref, split_ref
from nnrosetta.ir.view import NodeView as BaseView
from nnrosetta.pysource import LINE_LENGTH, wrap
from nnrosetta.pysource import doc as _doc
from nnrosetta.pysource import trunc as _trunc
from nnrosetta_backend_tf import emitters, helpers
from nnrosetta_backend_tf.layout import (
    Layout,
    axes_name,
    channels_last,
    conversion,
    identity,
    moves_only_ones,
)

MAX_IDENT = 40

# IR ops that want their input channels-last (an Input feeding one, through the layout
# transparent ops below, is made channels-last).
SPATIAL_OPS = {"Conv", "ConvTranspose", "Pool", "LRN", "Resize", "InstanceNormalization",
               "GroupNormalization", "DepthToSpace", "SpaceToDepth", "LpPool"}
TRANSPARENT_OPS = {"Relu", "Clip", "LeakyRelu", "Elu", "Sigmoid", "Tanh", "Gelu", "Swish",
                   "HardSwish", "HardSigmoid", "PRelu", "Selu", "Celu", "Softplus", "Softsign",
                   "Mish", "Abs", "Neg", "Exp", "Log", "Sqrt", "Dropout", "Identity",
                   "BatchNorm", "Scale", "Add", "Sum", "Sub", "Mul", "Div", "Max", "Min",
                   "Mean", "Concat", "Pad", "Power", "Softmax", "ThresholdedRelu", "Erf"}

_RESERVED = set(keyword.kwlist) | set(dir(builtins)) | {
    "keras", "layers", "ops", "np", "INPUTS", "OUTPUTS", "INPUT_PERMS", "OUTPUT_PERMS",
    "build_model", "model"}


def _keras_op_names() -> set[str]:
    """Names Keras gives the operations that ``keras.ops`` calls add to a functional model
    (``add``, ``pad``, ``get_item``, ...): a layer must not take one (names are unique)."""
    try:
        import inspect

        from keras.src import ops as kops
        from keras.src.ops.operation import Operation
        from keras.src.utils.naming import to_snake_case
    except ImportError:  # pragma: no cover - codegen without Keras: a conservative list
        return {"add", "subtract", "multiply", "divide", "pad", "reshape", "transpose",
                "get_item", "power", "square", "average_pool", "ones_like", "split", "clip"}
    names = set()
    for mod_name in ("core", "math", "nn", "numpy", "image", "linalg"):
        mod = getattr(kops, mod_name, None)
        if mod is None:
            continue
        for _, cls in inspect.getmembers(mod, inspect.isclass):
            if issubclass(cls, Operation):
                names.add(to_snake_case(cls.__name__))
    return names


_OP_NAMES: set[str] | None = None


def keras_op_names() -> set[str]:
    global _OP_NAMES
    if _OP_NAMES is None:
        _OP_NAMES = _keras_op_names()
    return _OP_NAMES


class NameTable:
    """Node names -> unique Python identifiers that are also safe Keras layer names
    ("inception_3a/1x1" -> inception_3a_1x1; never a name Keras gives its operations)."""

    def __init__(self, reserved: Iterable[str] = ()):
        self.used: set[str] = set(_RESERVED) | set(reserved)
        self.op_names = keras_op_names()

    @staticmethod
    def sanitize(name: str) -> str:
        s = re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_")
        s = re.sub(r"_+", "_", s)[:MAX_IDENT].rstrip("_")
        if not s:
            s = "node"
        if s[0].isdigit():
            s = "n" + s
        return s

    def _clashes(self, ident: str) -> bool:
        base = re.sub(r"_\d+$", "", ident)
        return ident in self.used or base in self.op_names or ident in self.op_names

    def new(self, name: str) -> str:
        base = self.sanitize(name)
        if re.sub(r"_\d+$", "", base) in self.op_names:
            base = f"{base}_layer"
        ident, i = base, 1
        while self._clashes(ident):
            i += 1
            ident = f"{base}_{i}"
        self.used.add(ident)
        return ident


# -- formatting -------------------------------------------------------------------------------

class Lazy:
    """A weight array computed when it is assigned, a block of rows at a time (a permuted
    copy of a large matrix never exists whole). ``rows(start, stop)`` gives rows
    ``start:stop`` of axis 0."""

    def __init__(self, rows, shape: tuple[int, ...]):
        self.rows = rows
        self.shape = tuple(int(d) for d in shape)


def weight_rows(a: Any, start: int, stop: int) -> np.ndarray:
    """Rows ``start:stop`` (axis 0) of a weight array or Lazy."""
    return np.asarray(a.rows(start, stop) if isinstance(a, Lazy) else a[start:stop])


def materialize(a: Any) -> np.ndarray:
    return weight_rows(a, 0, a.shape[0]) if isinstance(a, Lazy) else np.asarray(a)


class Code(str):
    """Source text to insert as is (fmt does not quote it)."""


def fmt_float(v: float) -> str:
    """Shortest literal that gives the same float32 (0.1, not 0.10000000149011612)."""
    v = float(v)
    if np.isnan(v):
        return 'float("nan")'
    if np.isinf(v):
        return 'float("inf")' if v > 0 else 'float("-inf")'
    s32 = str(np.float32(v))
    s = s32 if float(np.float32(float(s32))) == float(np.float32(v)) == v else repr(v)
    if "e" not in s and "." not in s:
        s += ".0"
    return s


def fmt(v: Any) -> str:
    """A Python literal for v (Code as is)."""
    if isinstance(v, Code):
        return str(v)
    if v is None or isinstance(v, (bool, np.bool_)):
        return repr(None if v is None else bool(v))
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return fmt_float(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, tuple):
        inner = ", ".join(fmt(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, (list, np.ndarray)):
        return "[" + ", ".join(fmt(x) for x in list(v)) + "]"
    raise TypeError(f"cannot format {v!r}")


def call(fn: str, *args: Any, **kwargs: Any) -> str:
    parts = [fmt(a) for a in args] + [f"{k}={fmt(v)}" for k, v in kwargs.items()]
    return f"{fn}({', '.join(parts)})"


@dataclass
class Generated:
    source: str
    weights: dict[str, list[Any]]           # layer name -> arrays (or Lazy) for set_weights
    inputs: list[dict[str, Any]]            # {"ir", "keras", "shape", "perm"} per input
    outputs: list[dict[str, Any]]           # {"ir", "shape", "layout"} per output (then taps)
    custom_layers: list[str]                # custom layer classes model.py defines
    model_name: str
    taps: list[str] = field(default_factory=list)   # IR refs after the outputs

    def meta(self) -> dict[str, Any]:
        """What Run needs to feed and read the model (nnrosetta.json)."""
        return {"inputs": self.inputs, "outputs": self.outputs[:len(self.outputs)
                                                                - len(self.taps)],
                "custom_layers": self.custom_layers, "model_name": self.model_name}


class CodegenError(ValueError):
    def __init__(self, node: str, message: str):
        super().__init__(f"{node}: {message}")
        self.node = node
        self.message = message


class NodeView(BaseView):
    """What emitters and checks see of a node (nnrosetta.ir.view.NodeView), and who reads
    it."""

    def __init__(self, node: Node, graph: Graph, shapes: Mapping[str, tuple[int, ...]],
                 weights: Mapping[str, np.ndarray] | None = None,
                 consumers: Mapping[str, list[tuple[Node, int]]] | None = None,
                 nodes: Mapping[str, Node] | None = None):
        super().__init__(node, graph, shapes, weights)
        self.op_type = node.op
        self._consumers = consumers
        self._nodes = nodes

    @property
    def nodes(self) -> Mapping[str, Node]:
        if self._nodes is None:
            self._nodes = self.graph.node_map()
        return self._nodes

    def producer(self, i: int) -> Node | None:
        """The node that computes input i."""
        return self.nodes.get(split_ref(self.node.inputs[i])[0])

    def const_input(self, i: int) -> bool:
        p = self.producer(i)
        return p is not None and p.op == "Constant"

    def consumers(self, i: int = 0) -> list[tuple[Node, int]]:
        """(node, input index) of every node reading output i."""
        if self._consumers is None:
            self._consumers = consumers_of(self.graph)
        return list(self._consumers.get(make_ref(self.name, i), []))


def consumers_of(graph: Graph) -> dict[str, list[tuple[Node, int]]]:
    out: dict[str, list[tuple[Node, int]]] = {}
    for n in graph.nodes:
        for k, r in enumerate(n.inputs):
            out.setdefault(make_ref(*split_ref(r)), []).append((n, k))
    return out


class Emit(NodeView):
    """The emitter's handle on the code being generated for one node."""

    def __init__(self, gen: CodeGen, node: Node, outs: list[str]):
        super().__init__(node, gen.graph, gen.shapes, gen.weights, gen.consumers, gen.nodes)
        self._gen = gen
        self.outs = outs
        self.out = outs[0]
        self.ident = gen.node_ident[node.name]
        self._main_layer = False   # the layer named after the node is made
        self.folded: list[Node] = []   # consumers emitted with this node (absorb)

    # -- inputs ---------------------------------------------------------------------------
    def layout(self, i: int = 0) -> Layout:
        return self._gen.layout_of(self.node.inputs[i])

    def rank(self, i: int = 0) -> int:
        shape = self.in_shape(i)
        return len(shape) if shape is not None else self.layout(i).rank

    def arg(self, i: int = 0, layout: Layout | None = None) -> str:
        """The variable holding input i, in ``layout`` (None: as it is; a Constant input in the
        IR layout)."""
        return self._gen.value(self.node.inputs[i], layout, self.name)

    def const_value(self, i: int) -> np.ndarray:
        p = self.producer(i)
        return self._gen.constant_value(p)

    @property
    def x(self) -> str:
        return self.arg(0)

    # -- what the emitter writes ------------------------------------------------------------
    def layer(self, cls: str, *args: Any, weights: Sequence[np.ndarray] | None = None,
              suffix: str = "", **kwargs: Any) -> str:
        """``cls(*args, **kwargs, name=...)``: a layer named after the node (the first one; the
        others ``<node>_<suffix>``); ``weights`` are what ``set_weights`` gets."""
        if not suffix and not self._main_layer:
            name = self.ident
            self._main_layer = True
        else:
            name = self._gen.names.new(f"{self.ident}_{suffix or 'layer'}")
        return self._layer(name, cls, args, kwargs, weights)

    def _layer(self, name: str, cls: str, args, kwargs, weights) -> str:
        if weights is not None:
            self._gen.weights_out[name] = list(weights)   # views: copied when assigned
        return call(cls, *args, **kwargs, name=name)

    def temp_layer(self, cls: str, x: str, *args: Any, suffix: str,
                   weights: Sequence[np.ndarray] | None = None, **kwargs: Any) -> str:
        """``<node>_<suffix> = cls(..., name="<node>_<suffix>")(x)``: an intermediate layer
        whose variable and layer share the name; returns the variable."""
        name = self._gen.names.new(f"{self.ident}_{suffix}")
        self.line(f"{name} = {self._layer(name, cls, args, kwargs, weights)}({x})")
        return name

    def op(self, fn: str, *args: Any, **kwargs: Any) -> str:
        """``ops.<fn>(...)``; variable names must be passed as ``Code``."""
        return call(f"ops.{fn}", *args, **kwargs)

    def assign(self, expr: str, layout: Layout, i: int = 0, out: str | None = None) -> str:
        """``<out> = expr``: output i, laid out as ``layout``."""
        var = out or self.outs[i]
        self.line(f"{var} = {expr}")
        self._gen.set_value(make_ref(self.name, i), var, layout)
        return var

    def alias(self, var: str, layout: Layout, i: int = 0) -> None:
        """Output i is an existing variable (no code: Identity, a Transpose that only relabels
        axes)."""
        self._gen.set_value(make_ref(self.name, i), var, layout)

    def temp(self, expr: str, suffix: str) -> str:
        """An intermediate variable ``<node>_<suffix> = expr``."""
        var = self._gen.names.new(f"{self.ident}_{suffix}")
        self.line(f"{var} = {expr}")
        return var

    def line(self, src: str) -> None:
        self._gen.body.extend(wrap(src, "    "))

    def comment(self, text: str) -> None:
        for ln in _comment_lines(text):
            self._gen.body.append(ln)

    def helper(self, name: str) -> str:
        """Include a helper function or custom layer class (helpers.py) in model.py."""
        self._gen.helpers.add(name)
        return name

    def constant(self, value: np.ndarray, suffix: str = "const") -> str:
        """A stored tensor as a model value: a ``Constant`` layer (model.py defines it)."""
        return self._gen.constant_layer(value, f"{self.ident}_{suffix}", self.name)

    def is_output(self, i: int = 0) -> bool:
        """Whether output i is a graph output (the model returns it)."""
        return make_ref(self.name, i) in self._gen.output_set

    def wants_channels_last(self, i: int = 0) -> bool:
        """Whether output i feeds a spatial op (through layout transparent ops)."""
        return self._gen.feeds_spatial(make_ref(self.name, i))

    def absorb(self, node: Node) -> str:
        """Emit ``node`` (a sole consumer of this node) together with this one: returns the
        variable of its output, which this emitter assigns; ``node`` gets no code of its own."""
        self._gen.absorbed.add(node.name)
        self.folded.append(node)
        var = self._gen.node_ident[node.name]
        src = node.attrs.get("_source_name")
        self.comment(f"{node.name} ({node.op}) is folded into this layer"
                     + (f" (source layer {src})" if isinstance(src, str) and src else ""))
        return var

    def can_absorb(self, node: Node) -> bool:
        """Whether ``node`` may be folded into this node (it is this node's only consumer, and
        this node's own value is neither returned nor fetched)."""
        ref = make_ref(self.name, 0)
        return (ref not in self._gen.output_set and ref not in self._gen.tap_set
                and [n.name for n, _ in self.consumers(0)] == [node.name])


def _comment_lines(text: str) -> list[str]:
    words, lines, cur = _doc(text).split(), [], "    #"
    for w in words:
        if len(cur) + 1 + len(w) > LINE_LENGTH and cur != "    #":
            lines.append(cur)
            cur = "    #"
        cur += " " + w
    lines.append(cur)
    return lines


# -- checks -----------------------------------------------------------------------------------

def known_shapes(graph: Graph) -> dict[str, tuple[int, ...]]:
    """Output shapes of every node whose shapes can be inferred (the others, e.g. after an op
    the registry does not know, from their ``_output_shapes`` annotations, or absent)."""
    try:
        return registry.infer_shapes(graph, annotate=False)
    except Exception:  # noqa: BLE001 - node by node below
        pass
    shapes: dict[str, tuple[int, ...]] = {}
    for n in graph.nodes:
        outs = None
        try:
            schema = registry.get(n.op)
            ins = [shapes[make_ref(*split_ref(r))] for r in n.inputs]
            w = {role: graph.tensors[t].shape for role, t in graph.weight_names(n).items()}
            outs = schema.infer_node(n, ins, w)
        except Exception:  # noqa: BLE001 - unknown op, or an input without a shape
            outs = [s for s in n.attrs.get("_output_shapes") or []
                    if isinstance(s, (list, tuple)) and all(isinstance(d, int) for d in s)]
        for i, s in enumerate(outs or []):
            shapes[make_ref(n.name, i)] = tuple(int(d) for d in s)
    return shapes


def problems(graph: Graph) -> list[tuple[str, str, str]]:
    """(node, op, message) for every node the backend cannot emit, all at once."""
    shapes = known_shapes(graph)
    cons = consumers_of(graph)
    nodes = graph.node_map()
    out: list[tuple[str, str, str]] = []
    for n in graph.nodes:
        em = emitters.get(n.op)
        if em is None or not registry.has(n.op):
            why = "is not an IR op" if not registry.has(n.op) else "has no Keras emitter"
            out.append((n.name, n.op, f"op {n.op!r} {why}; backend-tf cannot emit it"))
            continue
        view = NodeView(n, graph, shapes, None, cons, nodes)
        if view.any_dynamic() and not em.dynamic_weights:
            out.append((n.name, n.op, "weights computed at run time (bound to inputs) are not "
                        "supported by backend-tf; fold them into stored tensors first"))
            continue
        if em.check is not None:
            for msg in em.check(view):
                out.append((n.name, n.op, msg))
    return out


# -- generation -------------------------------------------------------------------------------

class CodeGen:
    def __init__(self, graph: Graph, weights: Mapping[str, np.ndarray],
                 taps: Sequence[str] = ()):
        self.graph = graph.toposorted()
        self.weights = weights
        self.taps = list(dict.fromkeys(make_ref(*split_ref(t)) for t in taps))
        self.shapes = registry.shapes_or_annotations(self.graph)
        self.nodes = self.graph.node_map()
        self.consumers = consumers_of(self.graph)
        self.names = NameTable()
        self.node_ident: dict[str, str] = {}
        self.weights_out: dict[str, list[np.ndarray]] = {}
        self.body: list[str] = []
        self.helpers: set[str] = set()
        self.vars: dict[str, tuple[str, Layout]] = {}      # IR ref -> (variable, layout)
        self.converted: dict[tuple[str, tuple, str], str] = {}
        self.constants: dict[tuple[str, tuple], str] = {}
        self.absorbed: set[str] = set()
        self.outputs = [make_ref(*split_ref(r)) for r in self.graph.output_refs()]
        self.output_set = set(self.outputs)
        self.tap_set = set(self.taps)
        self.pruned: list[str] = []
        self._spatial_cache: dict[str, bool] = {}
        self.input_vars: list[str] = []

    # -- values ---------------------------------------------------------------------------
    def layout_of(self, ref: str) -> Layout:
        key = make_ref(*split_ref(ref))
        if key in self.vars:
            return self.vars[key][1]
        node = self.nodes.get(split_ref(ref)[0])
        if node is not None and node.op == "Constant":
            return identity(len(self.constant_value(node).shape))
        raise KeyError(ref)

    def set_value(self, ref: str, var: str, layout: Layout) -> None:
        self.vars[ref] = (var, layout)

    def value(self, ref: str, layout: Layout | None, reader: str) -> str:
        key = make_ref(*split_ref(ref))
        node = self.nodes[split_ref(ref)[0]]
        if node.op == "Constant" and key not in self.vars:
            value = self.constant_value(node)
            if layout is not None and not layout.is_identity:
                value = np.transpose(value, layout.perm)
            if value.size == 1 and value.dtype.kind == "f":
                return fmt_float(float(value.reshape(-1)[0]))
            tag = "" if layout is None or layout.is_identity else _tag(layout.perm)
            k = (key, tuple(layout.perm) if layout is not None else ())
            if k not in self.constants:
                ident = self.node_ident[node.name] + (f"_{tag}" if tag else "")
                self.constants[k] = self.constant_layer(value, ident, node.name)
            return self.constants[k]
        if key not in self.vars:
            raise CodegenError(reader, f"input {ref!r} is not computed before it")
        var, have = self.vars[key]
        if layout is None or have == layout:
            return var
        if not have.plain or not layout.plain:
            raise CodegenError(reader, f"cannot convert {ref!r} from {have.describe()} to "
                               f"{layout.describe()}")
        k = (key, layout.perm, layout.order_key)
        if k in self.converted:
            return self.converted[k]
        shape = self.shapes.get(key)
        t = conversion(have, layout)
        conv = self.names.new(f"{var}_{_tag(layout.perm)}")
        src = self.nodes[split_ref(ref)[0]]
        why = f"{src.name} from {have.describe()} to {layout.describe()} for {reader}"
        if shape is not None and moves_only_ones(t, have.keras_shape(shape)) and t[0] == 0:
            self.body.extend(_comment_lines(f"{why} (only size-1 axes move: a reshape)"))
            target = tuple(layout.keras_shape(shape)[1:])
            self.body.extend(wrap(f"{conv} = {call('layers.Reshape', target, name=conv)}({var})",
                                  "    "))
        elif t[0] == 0:
            self.body.extend(_comment_lines(why))
            self.body.extend(wrap(f"{conv} = {call('layers.Permute', tuple(t[1:]), name=conv)}"
                                  f"({var})", "    "))
        else:
            self.body.extend(_comment_lines(why + " (the batch axis moves)"))
            self.body.extend(wrap(f"{conv} = ops.transpose({var}, {fmt(tuple(t))})", "    "))
        self.converted[k] = conv
        return conv

    def constant_value(self, node: Node) -> np.ndarray:
        t = self.graph.weight_names(node).get("value")
        if t is None:
            raise CodegenError(node.name, "Constant without a value tensor")
        arr = np.asarray(self.weights[t])
        if arr.dtype.kind == "f" and arr.dtype != np.float32:
            arr = arr.astype(np.float32)
        return arr

    def constant_layer(self, value: np.ndarray, ident: str, node: str) -> str:
        self.helpers.add("Constant")
        var = self.names.new(ident)
        if not self.input_vars:
            raise CodegenError(node, "a constant needs a model input to anchor it")
        self.weights_out[var] = [np.asarray(value)]
        ctor = call("Constant", tuple(int(d) for d in value.shape), np.dtype(value.dtype).name,
                    name=var)
        self.body.extend(_comment_lines(f"{node}: a stored tensor {list(value.shape)}"))
        self.body.extend(wrap(f"{var} = {ctor}({self.input_vars[0]})", "    "))
        return var

    def feeds_spatial(self, ref: str) -> bool:
        """Whether ``ref`` reaches a spatial op through layout transparent ops."""
        if ref in self._spatial_cache:
            return self._spatial_cache[ref]
        self._spatial_cache[ref] = False
        found = False
        for n, _ in self.consumers.get(ref, []):
            if n.op in SPATIAL_OPS or (n.op in TRANSPARENT_OPS and any(
                    self.feeds_spatial(make_ref(n.name, i))
                    for i in range(registry.output_count(n)))):
                found = True
                break
        self._spatial_cache[ref] = found
        return found

    # -- the whole graph ------------------------------------------------------------------
    def generate(self) -> Generated:
        g = self.graph
        live = g.live_nodes([*self.outputs, *self.taps])
        self.pruned = [n.name for n in g.nodes if n.name not in live and n.op != "Input"]
        for n in g.nodes:
            if n.name in live or n.op == "Input":
                self.node_ident[n.name] = self.names.new(n.name)
        inputs_meta = []
        for n in g.inputs:
            meta = self._input(n)
            inputs_meta.append(meta)
        for n in g.nodes:
            if n.op == "Input" or n.name not in live or n.name in self.absorbed:
                continue
            if n.op == "Constant" and make_ref(n.name, 0) not in self.output_set | self.tap_set:
                continue   # laid out where it is read (Emit.arg)
            em = emitters.get(n.op)
            if em is None:
                raise CodegenError(n.name, f"op {n.op!r} has no Keras emitter")
            count = registry.output_count(n)
            ident = self.node_ident[n.name]
            outs = [ident] if count == 1 else [self.names.new(f"{ident}_{i}")
                                               for i in range(count)]
            src = n.attrs.get("_source_name")
            head = f"{n.name} ({n.op})"
            if isinstance(src, str) and src and src != n.name:
                head += f", source layer {src}"
            self.body.extend(_comment_lines(head))
            emit = Emit(self, n, outs)
            try:
                em.emit(emit)
            except CodegenError:
                raise
            except Exception as e:
                raise CodegenError(n.name, f"cannot emit {n.op}: {e}") from e
            for folded in emit.folded:   # its value is the folded node's, not its own
                self.vars[folded.name] = self.vars.pop(n.name)
        missing = [r for r in self.outputs + self.taps if r not in self.vars
                   and self.nodes[split_ref(r)[0]].op != "Constant"]
        if missing:
            raise CodegenError("<graph>", f"values {missing} are not produced (a fetched value "
                               "folded into the next layer?)")
        out_vars, outputs_meta = [], []
        for r in self.outputs + self.taps:
            var, layout = self._result(r)
            out_vars.append(var)
            outputs_meta.append({"ir": r, "shape": list(self.shapes.get(r, ())),
                                 "layout": layout.to_json()})
        model_name = NameTable.sanitize(g.metadata.get("name") or "model")
        source = self._render(inputs_meta, outputs_meta, out_vars, model_name)
        customs = sorted(h for h in self.helpers if helpers.is_layer(h))
        return Generated(source, self.weights_out, inputs_meta, outputs_meta, customs,
                         model_name, list(self.taps))

    def _input(self, n: Node) -> dict[str, Any]:
        shape = [int(d) for d in n.attrs.get("shape", [])]
        rank = len(shape)
        layout = identity(rank)
        if rank >= 3 and self.feeds_spatial(n.name):
            layout = channels_last(rank)
        var = self.node_ident[n.name]
        kshape = tuple(None if d <= 0 else d for d in layout.keras_shape(shape)[1:]) \
            if rank else ()
        dtype = str(n.attrs.get("dtype", "float32"))
        kwargs: dict[str, Any] = {"shape": kshape}
        if dtype != "float32":
            kwargs["dtype"] = dtype
        if rank == 0:
            kwargs["batch_size"] = None
        letters = f" {axes_name(tuple(range(rank)))}" if 3 <= rank <= 5 else ""
        self.body.extend(_comment_lines(
            f"{n.name}: IR {shape}{letters}, fed "
            + ("as is" if layout.is_identity else
               f"{layout.describe()}: x.transpose{tuple(layout.perm)}")))
        self.body.extend(wrap(f"{var} = {call('keras.Input', **kwargs, name=var)}", "    "))
        self.vars[n.name] = (var, layout)
        self.input_vars.append(var)
        return {"ir": n.name, "keras": var, "shape": shape, "perm": list(layout.perm),
                "dtype": dtype}

    def _result(self, ref: str) -> tuple[str, Layout]:
        if ref not in self.vars:   # a Constant returned as is
            node = self.nodes[split_ref(ref)[0]]
            var = self.value(ref, None, "<outputs>")
            return var, identity(len(self.constant_value(node).shape))
        return self.vars[ref]

    def _render(self, inputs: list[dict], outputs: list[dict], out_vars: list[str],
                model_name: str) -> str:
        g = self.graph
        md = g.metadata
        n_out = len(self.outputs)
        customs = sorted(h for h in self.helpers if helpers.is_layer(h))
        lines = ['"""Keras model generated by nnrosetta backend-tf from nnrosetta IR.', ""]
        if md:
            lines.append("Converted from:")
            lines += [f"    {k}: {_doc(md[k])}" for k in sorted(md)]
        else:
            lines.append("Converted from: an IR graph without metadata.")
        lines.append(f"IR opset {g.opset_version}, {len(g.nodes)} nodes.")
        if self.pruned:
            lines.append(f"Left out {len(self.pruned)} node(s) no output depends on: "
                         + _doc(", ".join(self.pruned)))
        lines += [
            "",
            "Layout: the IR (like Caffe, ONNX and PyTorch) is channels-first (NCHW); this model",
            "is channels-last (NHWC), TensorFlow's native layout. Inputs are fed and outputs",
            "come back channels-last: INPUT_PERMS / OUTPUT_PERMS below give, per tensor, the",
            "transpose from the IR layout (keras_value = numpy.transpose(ir_value, perm)).",
            "",
        ]
        if customs:
            lines += [
                f"Custom layers: {', '.join(customs)} (defined below, registered with Keras",
                'under the package "nnrosetta"): import this file before loading model.keras.',
                "",
            ]
        lines += ["Load it:", "", "    import keras"]
        if customs:
            lines.append("    import model  # registers the custom layers")
        lines += [
            "",
            '    net = keras.models.load_model("model.keras")',
            "",
            "or rebuild it from this file and the weights:",
            "",
            "    from model import build_model",
            "",
            "    net = build_model()",
            '    net.load_weights("model.weights.h5")',
            "",
            "or run the TensorFlow SavedModel (no Keras needed):",
            "",
            "    import tensorflow as tf",
            "",
            '    serving = tf.saved_model.load("saved_model").signatures["serving_default"]',
            "    outputs = serving(" + ", ".join(f"{i['keras']}=..." for i in inputs)
            + ")  # a dict: output_0, output_1, ...",
            "",
            "Fine-tune (transfer learning): every layer is a standard trainable Keras layer",
            "(Dropout and BatchNormalization train as usual):",
            "",
            "    net.compile(optimizer=keras.optimizers.Adam(1e-4),",
            '                loss="sparse_categorical_crossentropy")',
            "    net.fit(images_nhwc, labels, epochs=1)",
            "",
            "Inputs (in order):",
        ]
        for i in inputs:
            feed = i["shape"] if not i["perm"] else [i["shape"][p] for p in i["perm"]]
            how = "" if i["perm"] == list(range(len(i["perm"]))) else \
                f", fed transposed {tuple(i['perm'])} as {feed}"
            lines.append(f"    {i['keras']}: IR {_doc(i['ir'])} {i['shape']}{how}")
        lines.append("Outputs (in order):")
        for o in outputs[:n_out]:
            lay = Layout.from_json(o["layout"])
            how = "" if lay.is_identity else f", returned as {lay.describe()}"
            lines.append(f"    {_doc(o['ir'])} {o['shape']}{how}")
        lines.append('"""')
        head = "\n".join(lines[:1] + [_trunc(x) for x in lines[1:]]) + "\n\n"

        imports = ["import keras"]
        helper_src = "".join(helpers.source(h) + "\n\n\n" for h in sorted(self.helpers))
        body_text = "\n".join(self.body) + helper_src
        names = [m for m in ("layers", "ops") if re.search(rf"\b{m}\.", body_text)]
        if names:
            imports.append(f"from keras import {', '.join(names)}")
        out = head + "\n".join(imports) + "\n\n"
        out += _list("INPUTS", [i["ir"] for i in inputs])
        out += _list("OUTPUTS", [o["ir"] for o in outputs[:n_out]])
        if self.taps:
            out += _list("TAPS", self.taps)
        out += "# keras_value = numpy.transpose(ir_value, perm), per input and output\n"
        out += _dict("INPUT_PERMS", {i["ir"]: i["perm"] for i in inputs})
        out += _dict("OUTPUT_PERMS", {o["ir"]: o["layout"]["perm"] for o in outputs[:n_out]})
        out += "\n\n" + helper_src if helper_src else "\n\n"
        out += "def build_model() -> keras.Model:\n"
        what = _doc(md.get("framework", "IR")) + " model" + \
            (f" {_doc(md['name'])}" if md.get("name") else "")
        out += f'    """The {what}, channels-last. Load its weights with load_weights."""\n'
        out += "\n".join(self.body) + "\n"
        ins = self.input_vars[0] if len(self.input_vars) == 1 else \
            f"[{', '.join(self.input_vars)}]"
        outs = out_vars[0] if len(out_vars) == 1 else f"[{', '.join(out_vars)}]"
        out += "\n".join(wrap(f"return keras.Model(inputs={ins}, outputs={outs}, "
                              f"name={fmt(model_name)})", "    ")) + "\n"
        return out


def _tag(perm: Sequence[int]) -> str:
    name = axes_name(perm)
    if name.startswith("perm") or name.startswith("as"):
        return "perm" + "".join(str(p) for p in perm)
    return name.lower()


def _list(name: str, items: Sequence[str]) -> str:
    return "\n".join(wrap(f"{name} = {fmt(list(items))}", "")) + "\n"


def _dict(name: str, d: Mapping[str, Sequence[int]]) -> str:
    inner = ", ".join(f"{fmt(k)}: {fmt(list(v))}" for k, v in d.items())
    return "\n".join(wrap(f"{name} = {{{inner}}}", "")) + "\n"


def generate(graph: Graph, weights: Mapping[str, np.ndarray], taps: Sequence[str] = (),
             ) -> Generated:
    return CodeGen(graph, weights, taps).generate()
