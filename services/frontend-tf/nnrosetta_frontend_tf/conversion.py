"""The result of importing a TensorFlow / Keras model: shared by the Keras layer importer and
the TF graph importer (``graph/``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import grpc
import numpy as np

if TYPE_CHECKING:
    from nnrosetta.ir.graph import Graph
    from nnrosetta.rpc.errors import Issue


@dataclass
class Conversion:
    """``issues`` lists every problem found (empty on success) and ``status`` is the gRPC
    status to report (UNIMPLEMENTED for unsupported layers / ops, INVALID_ARGUMENT for bad
    files or shapes, DATA_LOSS for truncated ones); ``graph`` may be None or partial when
    there are issues."""

    graph: Graph | None = None
    # tensor name -> array, or a lazy tensor (``.shape``, ``.dtype``, ``.load()``) read only
    # when streamed, so that no second copy of the model's weights is held
    weights: dict[str, Any] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    status: grpc.StatusCode = grpc.StatusCode.OK
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.graph is not None and not self.issues

    def iter_weights(self) -> Iterator[tuple[str, np.ndarray]]:
        """Each weight as a contiguous array, one at a time (lazy ones loaded as they go)."""
        for name, t in self.weights.items():
            if isinstance(t, np.ndarray):
                yield name, np.ascontiguousarray(t)
                continue
            a = np.ascontiguousarray(t.load())
            if a.dtype.name != t.dtype:
                a = a.astype(t.dtype)
            if tuple(a.shape) != tuple(t.shape):
                a = a.reshape(t.shape)
            yield name, a

    def materialize(self) -> dict[str, np.ndarray]:
        """Every weight as an array (tests, small models)."""
        return dict(self.iter_weights())
