"""Keras layer importers, one file per layer family, registered by layer class name."""

from __future__ import annotations

import importlib
import pkgutil

from nnrosetta_frontend_tf.layers._base import (
    LAYERS,
    Importer,
    LayerCall,
    LayerIssue,
    Out,
    OutVal,
    Tensor,
    Unsupported,
    layer,
)

__all__ = ["LAYERS", "Importer", "LayerCall", "LayerIssue", "Out", "OutVal", "Tensor",
           "Unsupported", "all_layers", "layer"]

_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:
        for m in pkgutil.iter_modules(__path__):
            if not m.name.startswith("_"):
                importlib.import_module(f"{__name__}.{m.name}")
        _loaded = True


def all_layers() -> dict[str, Importer]:
    _load()
    return dict(LAYERS)
