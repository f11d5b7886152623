"""IR on disk: ``graph.pb`` (the GraphDef), ``graph.json`` (for people) and ``weights.npz``.

Weights are stored as a plain ``.npz`` and always read with ``allow_pickle=False``: loading a
model never executes code from it."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import numpy as np

from nnrosetta.ir.graph import Graph
from nnrosetta.proto import ir_pb2

GRAPH_PB = "graph.pb"
GRAPH_JSON = "graph.json"
WEIGHTS_NPZ = "weights.npz"


def save(graph: Graph, weights: Mapping[str, np.ndarray] | Iterable[tuple[str, np.ndarray]],
         folder: str | os.PathLike) -> list[Path]:
    """Write graph.pb, graph.json and weights.npz into folder; returns the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / GRAPH_PB).write_bytes(graph.to_proto().SerializeToString())
    (folder / GRAPH_JSON).write_text(json.dumps(graph.to_dict(), indent=1))
    items = weights.items() if isinstance(weights, Mapping) else weights
    write_npz(folder / WEIGHTS_NPZ, items)
    return [folder / GRAPH_PB, folder / GRAPH_JSON, folder / WEIGHTS_NPZ]


def write_npz(path: str | os.PathLike, items: Iterable[tuple[str, np.ndarray]]) -> None:
    """Write arrays one at a time (np.savez would need them all in memory at once)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in items:
            with zf.open(name + ".npy", "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.ascontiguousarray(arr), allow_pickle=False)


def read_graph(path: str | os.PathLike) -> Graph:
    g = ir_pb2.GraphDef()
    g.ParseFromString(Path(path).read_bytes())
    return Graph.from_proto(g)


def iter_npz(path: str | os.PathLike) -> Iterator[tuple[str, np.ndarray]]:
    """Arrays of a .npz one at a time, never unpickling."""
    with np.load(path, allow_pickle=False) as z:
        for name in z.files:
            yield name, z[name]


def load(folder: str | os.PathLike) -> tuple[Graph, dict[str, np.ndarray]]:
    folder = Path(folder)
    return read_graph(folder / GRAPH_PB), dict(iter_npz(folder / WEIGHTS_NPZ))
