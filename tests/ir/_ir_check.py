"""Shared assertions for the op tests."""

from __future__ import annotations

import numpy as np
import torch

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node

TOL = 1e-5


def t64(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(a, dtype=np.float64))


def close(got: np.ndarray, expected, tol: float = TOL) -> None:
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    expected = np.asarray(expected, dtype=np.float64)
    assert got.shape == expected.shape, (got.shape, expected.shape)
    scale = max(float(np.abs(expected).max(initial=0.0)), 1e-12)
    err = float(np.abs(got.astype(np.float64) - expected).max(initial=0.0))
    assert err <= tol * scale, f"max abs error {err:.3g} > {tol} * output scale {scale:.3g}"


def run_op(op: str, attrs: dict, inputs: list[np.ndarray], weights: dict | None = None,
           ) -> list[np.ndarray]:
    """Validate the node, run reference() and check infer() agrees with its output shapes."""
    weights = {k: np.asarray(v, dtype=np.float32) for k, v in (weights or {}).items()}
    inputs = [np.asarray(x, dtype=np.float32) for x in inputs]
    schema = registry.get(op)
    node = Node("n", op, [f"x{i}" for i in range(len(inputs))], dict(attrs))
    assert schema.validate(node, list(weights)) == []
    full = schema.with_defaults(attrs)
    outs = schema.reference_fn(full, inputs, weights)
    shapes = schema.infer_fn(full, [x.shape for x in inputs],
                             {k: v.shape for k, v in weights.items()})
    assert len(outs) == len(shapes) == schema.num_outputs(attrs)
    for o, s in zip(outs, shapes, strict=True):
        assert isinstance(o, np.ndarray)
        assert o.dtype == np.float32, o.dtype
        assert o.shape == tuple(s), (o.shape, s)
    return outs
