"""The op registry: the single source of truth for what the IR can express.

Each op lives in its own file under ``nnrosetta/ir/ops/`` and registers itself with ``@op``:
a schema (inputs, outputs, typed attributes with defaults, weight roles), shape inference and
a NumPy reference implementation. Docs and support tables are generated from here
(``python -m nnrosetta.ir.docs``); backends and frontends declare which registry ops they
handle, never a list of their own.

Example::

    @op("Relu", inputs=["X"], outputs=["Y"])
    class Relu:
        '''max(x, 0), elementwise.'''

        @staticmethod
        def infer(attrs, shapes, weights):
            return [shapes[0]]

        @staticmethod
        def reference(attrs, inputs, weights):
            return [np.maximum(inputs[0], 0)]
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnrosetta.ir.graph import Graph, Node, make_ref, split_ref

REQUIRED = object()

# The attribute that names the weight roles bound to a node's extra inputs (see OpSchema).
WEIGHT_INPUTS = "weight_inputs"

# attribute type -> python check
_ATTR_TYPES: dict[str, Callable[[Any], bool]] = {
    "int": lambda v: isinstance(v, (int, np.integer)) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float, np.integer, np.floating))
    and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, (bool, np.bool_)),
    "str": lambda v: isinstance(v, str),
    "ints": lambda v: isinstance(v, (list, tuple))
    and all(_ATTR_TYPES["int"](x) for x in v),
    "floats": lambda v: isinstance(v, (list, tuple))
    and all(_ATTR_TYPES["float"](x) for x in v),
    "strs": lambda v: isinstance(v, (list, tuple)) and all(isinstance(x, str) for x in v),
}


@dataclass(frozen=True)
class Attr:
    type: str
    default: Any = REQUIRED
    doc: str = ""
    choices: tuple[Any, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass
class OpSchema:
    name: str
    doc: str
    inputs: tuple[str, ...]      # a trailing "*" marks a variadic input ("X*")
    outputs: tuple[str, ...]     # a trailing "*" marks a variadic output ("Y*")
    attrs: dict[str, Attr]
    weights: dict[str, bool]     # role -> required
    infer_fn: Callable[..., list[tuple[int, ...]]]
    reference_fn: Callable[..., list[np.ndarray]]
    since: int = 1
    num_outputs_fn: Callable[[dict[str, Any]], int] | None = None
    impl: Any = field(default=None, repr=False)
    # weight roles that may be given as inputs instead of stored tensors, in positional
    # order: a node's inputs after the data inputs bind these roles (the first ones in this
    # order, or the roles named by the ``weight_inputs`` attribute)
    weight_inputs: tuple[str, ...] = ()

    # -- weights given as inputs ---------------------------------------------------------
    def bound_roles(self, node: Node) -> list[str]:
        """The weight roles bound to ``node``'s inputs after its data inputs, in order."""
        extra = len(node.inputs) - len(self.inputs)
        if not self.weight_inputs or extra <= 0:
            return []
        named = node.attrs.get(WEIGHT_INPUTS)
        roles = list(named) if named else list(self.weight_inputs)
        return roles[:extra]

    def split_inputs(self, node: Node, values: Sequence[Any]) -> tuple[list[Any], dict[str, Any]]:
        """Per-input values (refs, shapes, arrays) -> (data inputs, {role: bound value})."""
        roles = self.bound_roles(node)
        if not roles:
            return list(values), {}
        n = len(self.inputs)
        return list(values[:n]), dict(zip(roles, values[n:], strict=False))

    def infer_node(self, node: Node, in_shapes: Sequence[tuple[int, ...]],
                   weight_shapes: Mapping[str, tuple[int, ...]]) -> list[tuple[int, ...]]:
        """Output shapes of ``node``: its stored weights' shapes plus those of the inputs
        bound to weight roles."""
        data, bound = self.split_inputs(node, in_shapes)
        return self.infer_fn(self.with_defaults(node.attrs), data,
                             {**weight_shapes, **{k: tuple(v) for k, v in bound.items()}})

    def reference_node(self, node: Node, inputs: Sequence[np.ndarray],
                       weights: Mapping[str, np.ndarray]) -> list[np.ndarray]:
        """The reference outputs of ``node``; inputs bound to weight roles act as weights."""
        data, bound = self.split_inputs(node, inputs)
        return self.reference_fn(self.with_defaults(node.attrs), data, {**weights, **bound})

    def with_defaults(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: a.default for k, a in self.attrs.items()
               if not a.required and k != WEIGHT_INPUTS}  # node structure, not semantics
        out.update({k: v for k, v in attrs.items() if not k.startswith("_")})
        return out

    def num_outputs(self, attrs: Mapping[str, Any]) -> int:
        if self.num_outputs_fn is not None:
            return self.num_outputs_fn(self.with_defaults(attrs))
        return len(self.outputs)

    def validate(self, node: Node, weight_roles: Sequence[str] = ()) -> list[str]:
        """Every problem with this node against the schema (empty when fine)."""
        problems: list[str] = []
        variadic = bool(self.inputs) and self.inputs[-1].endswith("*")
        fixed = len(self.inputs) - (1 if variadic else 0)
        if variadic and len(node.inputs) < max(fixed, 1):
            problems.append(f"needs at least {max(fixed, 1)} inputs, has {len(node.inputs)}")
        extra = len(node.inputs) - len(self.inputs)
        if not variadic and not 0 <= extra <= len(self.weight_inputs):
            if self.weight_inputs:
                problems.append(f"needs {len(self.inputs)} inputs (up to "
                                f"{len(self.inputs) + len(self.weight_inputs)} with weights "
                                f"{list(self.weight_inputs)} as inputs), has {len(node.inputs)}")
            else:
                problems.append(f"needs {len(self.inputs)} inputs, has {len(node.inputs)}")
        named = node.attrs.get(WEIGHT_INPUTS)
        if self.weight_inputs and isinstance(named, (list, tuple)) and named:
            bad = [r for r in named if r not in self.weight_inputs]
            if bad:
                problems.append(f"{WEIGHT_INPUTS}: {bad} cannot be given as inputs (only "
                                f"{list(self.weight_inputs)})")
            if len(set(named)) != len(named):
                problems.append(f"{WEIGHT_INPUTS}: {list(named)} names a role twice")
            if len(named) != max(extra, 0):
                problems.append(f"{WEIGHT_INPUTS} names {len(named)} roles for "
                                f"{max(extra, 0)} extra inputs")
        bound = set(self.bound_roles(node)) if not variadic else set()
        for k, a in self.attrs.items():
            if k not in node.attrs:
                if a.required:
                    problems.append(f"attribute {k!r} is required")
                continue
            v = node.attrs[k]
            if not _ATTR_TYPES[a.type](v):
                problems.append(f"attribute {k!r} must be {a.type}, got {v!r}")
            elif a.choices and v not in a.choices:
                problems.append(f"attribute {k!r} must be one of {list(a.choices)}, got {v!r}")
        for k in node.attrs:
            if not k.startswith("_") and k not in self.attrs:
                problems.append(f"unknown attribute {k!r}")
        for role, required in self.weights.items():
            if required and role not in weight_roles and role not in bound:
                problems.append(f"weight {role!r} is missing")
        for role in weight_roles:
            if role not in self.weights:
                problems.append(f"unknown weight {role!r}")
            elif role in bound:
                problems.append(f"weight {role!r} is given both as a tensor and as an input")
        return problems


_REGISTRY: dict[str, OpSchema] = {}


def op(name: str, *, inputs: Sequence[str], outputs: Sequence[str],
       attrs: Mapping[str, Attr] | None = None, weights: Mapping[str, bool] | None = None,
       since: int = 1, weight_inputs: Sequence[str] = ()) -> Callable[[type], type]:
    """Register an op class that has static ``infer`` and ``reference`` methods (and
    optionally ``num_outputs(attrs)`` for variadic outputs). Duplicates are an error.

    ``weight_inputs``: weight roles that may instead be bound to inputs (values computed at
    run time, e.g. ONNX's runtime Conv weights), in positional order after the data inputs;
    the op gets the ``weight_inputs`` attribute to name them when one is skipped. ``infer``
    and ``reference`` see a bound input exactly like the stored weight."""

    def deco(cls: type) -> type:
        if name in _REGISTRY:
            raise ValueError(f"op {name!r} is registered twice")
        doc = (cls.__doc__ or "").strip()
        if not doc:
            raise ValueError(f"op {name!r} needs a docstring (it is the op's documentation)")
        attr_map = dict(attrs or {})
        wins = tuple(weight_inputs)
        if wins:
            if any(i.endswith("*") for i in inputs):
                raise ValueError(f"op {name!r}: variadic inputs cannot take weights as inputs")
            unknown = [r for r in wins if r not in (weights or {})]
            if unknown:
                raise ValueError(f"op {name!r}: weight_inputs {unknown} are not weight roles")
            attr_map[WEIGHT_INPUTS] = Attr(
                "strs", [], "weight roles bound to the inputs after the data inputs, in "
                "order ([]: the first ones of " + ", ".join(wins) + ")")
        _REGISTRY[name] = OpSchema(
            name=name, doc=doc, inputs=tuple(inputs), outputs=tuple(outputs),
            attrs=attr_map, weights=dict(weights or {}),
            infer_fn=cls.infer, reference_fn=cls.reference, since=since,
            num_outputs_fn=getattr(cls, "num_outputs", None), impl=cls, weight_inputs=wins,
        )
        return cls

    return deco


_loaded = False


def _load_all() -> None:
    """Import every op module once. Not keyed on the table being empty: importing one op
    module directly (an emitter reusing an op's helper) registers that op only."""
    global _loaded
    if _loaded:
        return
    from nnrosetta.ir import ops

    for m in pkgutil.iter_modules(ops.__path__):
        importlib.import_module(f"{ops.__name__}.{m.name}")
    _loaded = True


def get(name: str) -> OpSchema:
    if name not in _REGISTRY:
        _load_all()
    if name not in _REGISTRY:
        raise KeyError(f"IR op {name!r} is not in the registry")
    return _REGISTRY[name]


def all_ops() -> dict[str, OpSchema]:
    _load_all()
    return dict(sorted(_REGISTRY.items()))


def has(name: str) -> bool:
    _load_all()
    return name in _REGISTRY


def bound_inputs(node: Node) -> dict[str, str]:
    """role -> input ref for the weights ``node`` takes as inputs (empty for most nodes and
    for ops the registry does not know)."""
    if node.op not in _REGISTRY and not has(node.op):
        return {}
    return get(node.op).split_inputs(node, node.inputs)[1]


def data_inputs(node: Node) -> list[str]:
    """``node``'s input refs without those bound to weight roles."""
    if node.op not in _REGISTRY and not has(node.op):
        return list(node.inputs)
    return get(node.op).split_inputs(node, node.inputs)[0]


# -- whole-graph helpers -------------------------------------------------------------------

def validate(graph: Graph) -> list[tuple[str, str]]:
    """(node name, problem) for every problem in the graph, all at once."""
    problems: list[tuple[str, str]] = []
    ops = all_ops()
    seen: set[str] = set()
    produced: dict[str, int] = {}
    for n in graph.nodes:
        if n.name in seen:
            problems.append((n.name, "duplicate node name"))
        seen.add(n.name)
        schema = ops.get(n.op)
        if schema is None:
            problems.append((n.name, f"op {n.op!r} is not in the IR registry"))
            continue
        for ref in n.inputs:
            src, idx = split_ref(ref)
            if src not in produced:
                problems.append((n.name, f"input {ref!r} is not produced by an earlier node"))
            elif idx >= produced[src]:
                problems.append((n.name, f"input {ref!r}: {src!r} has {produced[src]} outputs"))
        problems.extend((n.name, p) for p in schema.validate(n, list(graph.weight_names(n))))
        try:
            produced[n.name] = schema.num_outputs(n.attrs)
        except Exception as e:  # noqa: BLE001 - reported, not raised
            problems.append((n.name, f"cannot count outputs: {e}"))
            produced[n.name] = 1
    for ref in graph.outputs:
        src, idx = split_ref(ref)
        if src not in produced or idx >= produced[src]:
            problems.append(("<graph>", f"output {ref!r} is not produced by any node"))
    return problems


class RuntimeDimError(ValueError):
    """A node consumes a tensor whose dims are known only at run time (-1 from shape
    inference, e.g. a Resize with run-time scales): only graph outputs may have such dims."""


def infer_shapes(graph: Graph, *, annotate: bool = True) -> dict[str, tuple[int, ...]]:
    """Shapes of every node output (by ref), in order; sets ``_output_shapes`` when asked.
    A dim known only at run time is -1 (see docs/ir.md); a node that consumes one raises
    ``RuntimeDimError``."""
    shapes: dict[str, tuple[int, ...]] = {}
    for n in graph.nodes:
        schema = get(n.op)
        in_shapes = [shapes[r if r in shapes else split_ref(r)[0]] for r in n.inputs]
        late = [(r, s) for r, s in zip(n.inputs, in_shapes, strict=True) if any(d < 0 for d in s)]
        if late:
            raise RuntimeDimError(
                f"node {n.name!r} ({n.op}) consumes " + ", ".join(
                    f"{r!r} of shape {list(s)}" for r, s in late)
                + ": dims shown as -1 are known only at run time (a Resize with run-time "
                "scales or sizes); only graph outputs may have them. Make the scales / sizes "
                "constants (an initializer), or fix the input shapes so they can be folded")
        wshapes = {role: graph.tensors[t].shape for role, t in graph.weight_names(n).items()}
        try:
            outs = schema.infer_node(n, in_shapes, wshapes)
        except Exception as e:
            raise ValueError(f"shape inference failed at node {n.name!r} ({n.op}) with input "
                             f"shapes {in_shapes}: {e}") from e
        for i, s in enumerate(outs):
            shapes[make_ref(n.name, i)] = tuple(int(d) for d in s)
        if annotate:
            n.attrs["_output_shapes"] = [list(s) for s in outs]
    return shapes


def shapes_or_annotations(graph: Graph) -> dict[str, tuple[int, ...]]:
    """``infer_shapes`` (not annotating), or, when it fails, the ``_output_shapes`` the
    frontend left (free dims as 1): what backends lay code out from."""
    try:
        return infer_shapes(graph, annotate=False)
    except RuntimeDimError:
        raise                   # the annotations would not know the dims either
    except Exception:  # noqa: BLE001 - fall back to the annotations the frontend left
        out: dict[str, tuple[int, ...]] = {}
        for n in graph.nodes:
            for i, s in enumerate(n.attrs.get("_output_shapes") or []):
                if isinstance(s, (list, tuple)) and all(isinstance(d, int) for d in s):
                    out[make_ref(n.name, i)] = tuple(max(d, 1) for d in s)
        return out


def output_count(node: Node) -> int:
    """How many outputs a node has (1 for an op the registry does not know, which backends
    report separately; Split by its sizes)."""
    try:
        return get(node.op).num_outputs(node.attrs)
    except Exception:  # noqa: BLE001
        if node.op == "Split":
            return len(node.attrs.get("split") or [1])
        return 1


def run_reference(graph: Graph, weights: Mapping[str, np.ndarray],
                  feeds: Mapping[str, np.ndarray], fetch: Sequence[str] | None = None,
                  ) -> dict[str, np.ndarray]:
    """Execute the graph with the NumPy reference implementations (inference semantics).

    ``fetch``: refs to return (default: the graph outputs). Intermediate values are dropped
    as soon as nothing needs them, so memory stays near the widest cut of the graph."""
    fetch = list(fetch) if fetch else graph.output_refs()
    wanted = set(fetch)
    last_use: dict[str, int] = {}
    for i, n in enumerate(graph.nodes):
        for r in n.inputs:
            last_use[r] = i
    values: dict[str, np.ndarray] = {}
    result: dict[str, np.ndarray] = {}
    for i, n in enumerate(graph.nodes):
        schema = get(n.op)
        attrs = schema.with_defaults(n.attrs)
        if n.op == "Input":
            if n.name not in feeds:
                raise KeyError(f"no value fed for input {n.name!r}")
            outs = [np.asarray(feeds[n.name])]
        else:
            ins = [values[r] if r in values else values[make_ref(*split_ref(r))]
                   for r in n.inputs]
            ws = {role: weights[t] for role, t in graph.weight_names(n).items()}
            data, bound = schema.split_inputs(n, ins)
            outs = schema.reference_fn(attrs, data, {**ws, **bound})
        for j, v in enumerate(outs):
            ref = make_ref(n.name, j)
            values[ref] = v
            if ref in wanted:
                result[ref] = v
        for r in n.inputs:
            if last_use.get(r) == i and r not in wanted:
                values.pop(r, None)
    return {r: result[r] for r in fetch}
