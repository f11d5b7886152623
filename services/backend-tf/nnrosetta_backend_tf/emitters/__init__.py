"""Emitters: one per IR op (ops of one family share a module), registered by IR op name.

An emitter turns one IR node into Keras functional-API source: it asks for its inputs in the
layout it needs, creates named layers (their weights go to ``set_weights``) and assigns its
outputs with their layouts. Register with::

    @emitter("Relu")
    def emit(e: Emit) -> None:
        e.assign(f"{e.layer('layers.ReLU')}({e.x})", e.layout())

``check(c)`` (optional) returns what the emitter cannot express for a node (every problem, as
messages); ``Check`` and ``FromIR`` refuse nodes with problems, all of them at once.
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
    dynamic_weights: bool = False   # handles weights bound to inputs (computed at run time)
    describe: Callable[[str], str] | None = None   # the support table's text for one op

    def doc(self) -> str:
        """What the op becomes (the support table): ``describe`` or the emitter's first
        docstring paragraph."""
        if self.describe is not None:
            return self.describe(self.op)
        return " ".join((self.emit.__doc__ or "").strip().split("\n\n")[0].split())


_EMITTERS: dict[str, Emitter] = {}


def emitter(*ops: str, check: Callable[[Any], list[str]] | None = None,
            dynamic_weights: bool = False, describe: Callable[[str], str] | None = None):
    """Register the decorated function as the emitter of the IR ops ``ops`` (duplicates are
    refused). ``describe(op)``: the support table's text for each op (default: the emitter's
    docstring)."""

    def deco(fn: Callable[[Any], None]) -> Callable[[Any], None]:
        for op in ops:
            if op in _EMITTERS:
                raise ValueError(f"an emitter for IR op {op!r} is registered twice "
                                 f"({_EMITTERS[op].module} and {fn.__module__})")
            _EMITTERS[op] = Emitter(op, fn, check, fn.__module__, dynamic_weights, describe)
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


def not_in_ir_registry() -> list[str]:
    """Emitter keys that are not IR ops (must be empty: every key is a registry op)."""
    return [k for k in all_emitters() if not registry.has(k)]


def supported_ops() -> list[str]:
    """IR ops this backend emits (emitters whose op the IR registry knows)."""
    return [k for k in all_emitters() if registry.has(k)]
