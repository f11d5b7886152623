"""Caffe layer converters, one file per Caffe layer type, registered by type name."""

from __future__ import annotations

import importlib
import pkgutil

from nnrosetta_frontend_caffe.layers._base import (
    CONVERTERS,
    ConverterFn,
    Layer,
    LayerIssue,
    Out,
    Tensor,
    Unsupported,
    converter,
)

__all__ = ["CONVERTERS", "ConverterFn", "Layer", "LayerIssue", "Out", "Tensor", "Unsupported",
           "all_converters", "converter"]

_loaded = False


def all_converters() -> dict[str, ConverterFn]:
    global _loaded
    if not _loaded:
        for m in pkgutil.iter_modules(__path__):
            if not m.name.startswith("_"):
                importlib.import_module(f"{__name__}.{m.name}")
        _loaded = True
    return dict(CONVERTERS)
