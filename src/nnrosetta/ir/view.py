"""What a backend's checks and emitters see of one IR node: its attributes (the registry's
defaults filled in), stored weights, run-time bound weights, and value shapes. Backends
subclass it with what their code generation needs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Graph, Node, make_ref, split_ref


class NodeView:
    def __init__(self, node: Node, graph: Graph, shapes: Mapping[str, tuple[int, ...]],
                 weights: Mapping[str, np.ndarray] | None = None):
        self.node = node
        self.name = node.name
        self.graph = graph
        self._shapes = shapes
        self._weights = weights or {}
        self._wnames = graph.weight_names(node)
        try:
            schema = registry.get(node.op)
            self.attrs = schema.with_defaults(node.attrs)
            self._bound_roles = schema.bound_roles(node)
        except KeyError:
            self.attrs = {k: v for k, v in node.attrs.items() if not k.startswith("_")}
            self._bound_roles = []

    def attr(self, key: str, default: Any = None) -> Any:
        v = self.attrs.get(key, default)
        return default if v is None else v

    def dynamic(self, role: str) -> bool:
        """Whether weight ``role`` is an input computed at run time (not a stored tensor)."""
        return role in self._bound_roles

    def any_dynamic(self) -> bool:
        return bool(self._bound_roles)

    def bound_index(self, role: str) -> int:
        """The node-input index of the run-time weight ``role``."""
        return len(self.node.inputs) - len(self._bound_roles) + self._bound_roles.index(role)

    def has_weight(self, role: str) -> bool:
        """Whether weight ``role`` is a stored tensor."""
        return role in self._wnames

    def weight_shape(self, role: str) -> tuple[int, ...] | None:
        t = self._wnames.get(role)
        return None if t is None else tuple(self.graph.tensors[t].shape)

    def param_shape(self, role: str) -> tuple[int, ...] | None:
        """Shape of weight ``role``, stored or bound to an input (None: absent/unknown)."""
        if self.dynamic(role):
            return self.in_shape(self.bound_index(role))
        return self.weight_shape(role)

    def weight(self, role: str) -> np.ndarray | None:
        """The stored weight ``role`` (floating point as float32), None when absent."""
        t = self._wnames.get(role)
        return None if t is None else self._array(t)

    def tensor(self, name: str) -> np.ndarray | None:
        """A graph tensor by name (another node's weight: a layer folded into this one)."""
        return self._array(name) if name in self.graph.tensors else None

    def _array(self, name: str) -> np.ndarray:
        arr = np.asarray(self._weights[name])
        if arr.dtype.kind == "f" and arr.dtype != np.float32:
            arr = arr.astype(np.float32)
        return arr

    def in_shape(self, i: int = 0) -> tuple[int, ...] | None:
        ref = self.node.inputs[i]
        return self._shapes.get(ref) or self._shapes.get(make_ref(*split_ref(ref)))

    def out_shape(self, i: int = 0) -> tuple[int, ...] | None:
        return self._shapes.get(make_ref(self.name, i))
