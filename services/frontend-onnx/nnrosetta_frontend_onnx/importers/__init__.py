"""ONNX op importers, one file per op (or small family), registered by op type and opset
range."""

from __future__ import annotations

import importlib
import pkgutil

from nnrosetta_frontend_onnx.importers._base import (
    IMPORTERS,
    Importer,
    NodeIssue,
    ONode,
    Out,
    Tensor,
    Unsupported,
    importer,
)

__all__ = ["IMPORTERS", "Importer", "NodeIssue", "ONode", "Out", "Tensor", "Unsupported",
           "all_importers", "find", "importer"]

_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:
        for m in pkgutil.iter_modules(__path__):
            if not m.name.startswith("_"):
                importlib.import_module(f"{__name__}.{m.name}")
        _loaded = True


def all_importers() -> dict[str, list[Importer]]:
    _load()
    return {k: list(v) for k, v in IMPORTERS.items()}


def find(op_type: str, opset: int) -> Importer | None:
    _load()
    for imp in IMPORTERS.get(op_type, []):
        if imp.handles(opset):
            return imp
    return None
