"""Emitters: one per IR op (a family of trivial ops may share a module), registered by IR op
name.

An emitter turns one IR node into ONNX nodes at the model's opset. Register with::

    @emitter("Relu")
    def emit(e: Emit) -> None:
        e.final("Relu", [e.x])

``check(c)`` (optional) returns what the emitter cannot express for a node at ``c.opset``
(all problems, as messages); the model is not built while any node has problems.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nnrosetta.ir import registry


@dataclass(frozen=True)
class Emitter:
    op: str
    emit: Callable[[Any], None]
    check: Callable[[Any], list[str]] | None = None
    module: str = ""


_EMITTERS: dict[str, Emitter] = {}


def emitter(*ops: str, check: Callable[[Any], list[str]] | None = None):
    """Register the decorated function as the emitter of the IR op(s) (duplicates refused)."""

    def deco(fn: Callable[[Any], None]) -> Callable[[Any], None]:
        for op in ops:
            if op in _EMITTERS:
                raise ValueError(f"an emitter for IR op {op!r} is registered twice "
                                 f"({_EMITTERS[op].module} and {fn.__module__})")
            _EMITTERS[op] = Emitter(op, fn, check, fn.__module__)
        return fn

    return deco


def _load_all() -> None:
    for m in pkgutil.iter_modules(__path__):
        if not m.name.startswith("_"):
            importlib.import_module(f"{__name__}.{m.name}")


def all_emitters() -> dict[str, Emitter]:
    if not _EMITTERS:
        _load_all()
    return dict(sorted(_EMITTERS.items()))


def get(op: str) -> Emitter | None:
    return all_emitters().get(op)


def supported_ops() -> list[str]:
    """IR ops this backend emits (emitters whose op the IR registry knows)."""
    return [k for k in all_emitters() if registry.has(k)]
