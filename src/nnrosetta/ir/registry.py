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

    def with_defaults(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: a.default for k, a in self.attrs.items() if not a.required}
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
        if not variadic and len(node.inputs) != len(self.inputs):
            problems.append(f"needs {len(self.inputs)} inputs, has {len(node.inputs)}")
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
            if required and role not in weight_roles:
                problems.append(f"weight {role!r} is missing")
        for role in weight_roles:
            if role not in self.weights:
                problems.append(f"unknown weight {role!r}")
        return problems


_REGISTRY: dict[str, OpSchema] = {}


def op(name: str, *, inputs: Sequence[str], outputs: Sequence[str],
       attrs: Mapping[str, Attr] | None = None, weights: Mapping[str, bool] | None = None,
       since: int = 1) -> Callable[[type], type]:
    """Register an op class that has static ``infer`` and ``reference`` methods (and
    optionally ``num_outputs(attrs)`` for variadic outputs). Duplicates are an error."""

    def deco(cls: type) -> type:
        if name in _REGISTRY:
            raise ValueError(f"op {name!r} is registered twice")
        doc = (cls.__doc__ or "").strip()
        if not doc:
            raise ValueError(f"op {name!r} needs a docstring (it is the op's documentation)")
        _REGISTRY[name] = OpSchema(
            name=name, doc=doc, inputs=tuple(inputs), outputs=tuple(outputs),
            attrs=dict(attrs or {}), weights=dict(weights or {}),
            infer_fn=cls.infer, reference_fn=cls.reference, since=since,
            num_outputs_fn=getattr(cls, "num_outputs", None), impl=cls,
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
    return name in all_ops()


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


def infer_shapes(graph: Graph, *, annotate: bool = True) -> dict[str, tuple[int, ...]]:
    """Shapes of every node output (by ref), in order; sets ``_output_shapes`` when asked."""
    shapes: dict[str, tuple[int, ...]] = {}
    for n in graph.nodes:
        schema = get(n.op)
        in_shapes = [shapes[r if r in shapes else split_ref(r)[0]] for r in n.inputs]
        wshapes = {role: graph.tensors[t].shape for role, t in graph.weight_names(n).items()}
        try:
            outs = schema.infer_fn(schema.with_defaults(n.attrs), in_shapes, wshapes)
        except Exception as e:
            raise ValueError(f"shape inference failed at node {n.name!r} ({n.op}) with input "
                             f"shapes {in_shapes}: {e}") from e
        for i, s in enumerate(outs):
            shapes[make_ref(n.name, i)] = tuple(int(d) for d in s)
        if annotate:
            n.attrs["_output_shapes"] = [list(s) for s in outs]
    return shapes


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
            outs = schema.reference_fn(attrs, ins, ws)
        for j, v in enumerate(outs):
            ref = make_ref(n.name, j)
            values[ref] = v
            if ref in wanted:
                result[ref] = v
        for r in n.inputs:
            if last_use.get(r) == i and r not in wanted:
                values.pop(r, None)
    return {r: result[r] for r in fetch}
