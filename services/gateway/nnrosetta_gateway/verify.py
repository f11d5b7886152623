"""Numeric comparison of a conversion: the source framework's own runtime against the target's,
on the same generated inputs.

The error measure is scale-relative: ``max|target - source| / max|source|`` per output, so a
tolerance of 1e-4 means "within 1e-4 of the output's scale" whatever the output's magnitude.
The report also gives the plain max abs error, a max relative error (elementwise, against
``|source| + 1e-6 * scale``) and where the worst element is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from nnrosetta.ir.graph import Graph

DEFAULT_TOLERANCE = 1e-4


def make_inputs(graph: Graph, seed: int) -> dict[str, np.ndarray]:
    """Seeded N(0, 1) inputs for every Input node (free dims become 1); an input that feeds a
    Resize's run-time scales / sizes / roi gets values such an input means (``_resize_feeds``)."""
    rng = np.random.default_rng(seed)
    feeds = {}
    for n in graph.inputs:
        shape = tuple(1 if d < 0 else d for d in n.attrs["shape"])
        dtype = np.dtype(n.attrs.get("dtype", "float32"))
        if dtype.kind == "f":
            feeds[n.name] = rng.standard_normal(shape).astype(dtype)
        else:
            feeds[n.name] = rng.integers(0, 10, size=shape).astype(dtype)
    feeds.update(_resize_feeds(graph, feeds, rng))
    return feeds


def describe_inputs(graph: Graph, feeds: Mapping[str, np.ndarray]) -> dict[str, dict]:
    """What ``make_inputs`` fed, per input, for the report."""
    roles = {}
    from nnrosetta.ir import registry

    for n in graph.nodes:
        if n.op == "Resize":
            roles.update({ref: role for role, ref in registry.bound_inputs(n).items()})
    out = {}
    for k, v in feeds.items():
        if k in roles:
            how = f"Resize {roles[k]}: {[float(x) for x in np.asarray(v).reshape(-1)]}"
        elif v.dtype.kind == "f":
            how = "normal(0,1)"
        else:
            how = "integers in [0, 10)"
        out[k] = {"shape": list(v.shape), "dtype": str(v.dtype), "distribution": how}
    return out


def _resize_feeds(graph: Graph, feeds: Mapping[str, np.ndarray],
                  rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Graph inputs bound to a Resize's run-time roles: scales in [0.5, 2] (multiples of
    1/4, exact in float32) over the spatial dims, picked so that ``in * scale`` is whole
    (runtimes disagree on fractional output lengths: onnxruntime's align_corners is not ONNX's
    reference there), and 1 over batch and channels (onnxruntime's linear mode requires it);
    sizes of the input's dims times those scales; the whole input as roi."""
    from nnrosetta.ir import registry

    inputs = {n.name for n in graph.inputs}
    try:
        shapes = registry.infer_shapes(graph, annotate=False)
    except ValueError:
        return {}
    out: dict[str, np.ndarray] = {}
    for n in graph.nodes:
        if n.op != "Resize":
            continue
        bound = {role: ref for role, ref in registry.bound_inputs(n).items() if ref in inputs}
        if not bound:
            continue
        shape = shapes.get(n.inputs[0], ())
        rank = len(shape)
        axes = [a % rank for a in (n.attrs.get("axes") or range(rank))] if rank else []
        for role, ref in bound.items():
            dtype = feeds[ref].dtype
            scale = np.asarray([_whole_scale(shape[a], rng) if a >= min(2, rank - 1) else 1.0
                                for a in axes])
            if role == "scales":
                out[ref] = scale.astype(dtype)
            elif role == "sizes":
                out[ref] = np.maximum(1, np.round([shape[a] * s for a, s in
                                                   zip(axes, scale, strict=True)])).astype(dtype)
            else:
                out[ref] = np.asarray([0.0] * len(axes) + [1.0] * len(axes), dtype)
    return out


@dataclass
class Comparison:
    name: str
    source_name: str
    shape: list[int]
    max_abs_error: float
    max_rel_error: float
    scale: float
    scaled_error: float
    tolerance: float
    passed: bool
    worst_index: list[int]
    note: str = ""

    def to_dict(self) -> dict:
        return {
            "name": self.name, "source_name": self.source_name, "shape": self.shape,
            "max_abs_error": self.max_abs_error, "max_rel_error": self.max_rel_error,
            "output_scale": self.scale, "error_relative_to_scale": self.scaled_error,
            "tolerance": self.tolerance, "pass": self.passed, "worst_index": self.worst_index,
            **({"note": self.note} if self.note else {}),
        }


def compare(name: str, source_name: str, ref: np.ndarray, got: np.ndarray,
            tolerance: float) -> Comparison:
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    note = ""
    if ref.shape != got.shape:
        if ref.size == got.size:
            note = f"shapes differ (source {list(ref.shape)}, target {list(got.shape)}); " \
                   "compared in row-major order"
            got = got.reshape(ref.shape)
        else:
            return Comparison(name, source_name, list(got.shape), float("inf"), float("inf"),
                              0.0, float("inf"), tolerance, False, [],
                              f"shape mismatch: source {list(ref.shape)}, target "
                              f"{list(got.shape)}")
    if ref.size == 0:
        return Comparison(name, source_name, list(ref.shape), 0.0, 0.0, 0.0, 0.0, tolerance,
                          True, [], "empty")
    finite = np.isfinite(ref) & np.isfinite(got)
    if not finite.all() and not np.array_equal(np.isnan(ref), np.isnan(got)):
        note = "non-finite values differ"
    diff = np.where(finite, np.abs(got - ref), np.where(np.isnan(ref) == np.isnan(got), 0,
                                                         np.inf))
    scale = float(np.max(np.abs(np.where(np.isfinite(ref), ref, 0))))
    worst = np.unravel_index(int(np.argmax(diff)), diff.shape)
    max_abs = float(diff[worst])
    rel = diff / (np.abs(ref) + 1e-6 * max(scale, 1e-30))
    scaled = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
    return Comparison(name, source_name, list(ref.shape), max_abs, float(np.max(rel)), scale,
                      scaled, tolerance, bool(scaled <= tolerance), [int(i) for i in worst],
                      note)


def first_divergence(graph: Graph, source: Mapping[str, np.ndarray],
                     target: Mapping[str, np.ndarray], names: Sequence[tuple[str, str]],
                     tolerance: float) -> dict | None:
    """Walk nodes in graph order; the first whose output differs beyond tolerance."""
    order = {n.name: i for i, n in enumerate(graph.nodes)}
    nodes = graph.node_map()
    checked = 0
    for ir_name, src_name in sorted(names, key=lambda p: order.get(p[0], 1 << 30)):
        if ir_name not in target or src_name not in source:
            continue
        checked += 1
        c = compare(ir_name, src_name, source[src_name], target[ir_name], tolerance)
        if not c.passed:
            n = nodes[ir_name]
            return {"node": ir_name, "op": n.op, "source_layer": src_name,
                    "inputs": n.inputs, "comparison": c.to_dict(), "nodes_checked": checked}
    return None


def _whole_scale(n: int, rng: np.random.Generator) -> float:
    """A scale in [0.5, 2] (a multiple of 1/4, 1 excluded) with ``n * scale`` whole."""
    ok = [s for s in (0.5, 0.75, 1.25, 1.5, 1.75, 2.0) if float(n * s).is_integer()]
    return float(ok[int(rng.integers(len(ok)))])
