"""nnrosetta.ir.io: save/load round trip; weights are read without unpickling."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from nnrosetta.ir import io, registry
from nnrosetta.ir.graph import Graph, Node, TensorInfo


def _graph():
    rng = np.random.default_rng(0)
    weights = {
        "conv1.weight": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
        "conv1.bias": rng.standard_normal(4).astype(np.float32),
        "bn.mean": np.arange(4, dtype=np.float64),
        "bn.var": np.ones(4, dtype=np.float16),
        "idx.weight": np.array([[1, -2], [3, 4]], dtype=np.int64),
        "empty.weight": np.zeros((0, 3), dtype=np.float32),
    }
    nodes = [
        Node("data", "Input", [], {"shape": [-1, 3, 8, 8], "_source_name": "data"}),
        Node("conv1", "Conv", ["data"], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1],
                                         "group": 1, "_output_shapes": [[1, 4, 8, 8]]}),
        Node("bn", "BatchNorm", ["conv1"], {"epsilon": 1e-3, "momentum": 0.1}),
        Node("split", "Split", ["bn"], {"axis": 1, "split": [1, 3]}),
        Node("pool", "Pool", ["split:1"], {"mode": "avg", "kernel_shape": [2, 2],
                                           "ceil_mode": True, "count_include_pad": False}),
        Node("sum", "Add", ["split", "split"], {"coeffs": [0.5, 2.0]}),
        Node("cst", "Identity", ["sum"], {"_const": np.eye(2, dtype=np.float32)}),
    ]
    tensors = {k: TensorInfo(k, v.dtype.name, v.shape) for k, v in weights.items()}
    g = Graph(nodes, outputs=["pool", "cst"], metadata={"framework": "caffe"},
              tensors=tensors)
    return g, weights


def test_save_load_round_trip(tmp_path):
    g, weights = _graph()
    paths = io.save(g, weights, tmp_path / "model")
    assert [p.name for p in paths] == ["graph.pb", "graph.json", "weights.npz"]
    g2, w2 = io.load(tmp_path / "model")

    assert [n.name for n in g2.nodes] == [n.name for n in g.nodes]
    for a, b in zip(g.nodes, g2.nodes, strict=True):
        assert (a.op, a.inputs) == (b.op, b.inputs)
        assert a.attrs.keys() == b.attrs.keys()
        for k, v in a.attrs.items():
            if isinstance(v, np.ndarray):
                np.testing.assert_array_equal(b.attrs[k], v)
            elif isinstance(v, float):
                assert b.attrs[k] == pytest.approx(v, rel=1e-6)
            else:
                assert b.attrs[k] == v, (a.name, k)
    assert g2.outputs == ["pool", "cst"]
    assert g2.metadata == {"framework": "caffe"}
    assert g2.tensors == g.tensors
    assert w2.keys() == weights.keys()
    for k, v in weights.items():
        assert w2[k].dtype == v.dtype and w2[k].shape == v.shape
        np.testing.assert_array_equal(w2[k], v)
    assert registry.validate(g2) == []

    js = json.loads((tmp_path / "model" / "graph.json").read_text())
    assert js["outputs"] == ["pool", "cst"]
    assert js["nodes"][1]["attrs"]["kernel_shape"] == [3, 3]


def test_weights_npz_loads_with_allow_pickle_false(tmp_path):
    g, weights = _graph()
    io.save(g, weights, tmp_path)
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as z:
        assert sorted(z.files) == sorted(weights)
        np.testing.assert_array_equal(z["conv1.weight"], weights["conv1.weight"])


def test_write_npz_refuses_object_arrays(tmp_path):
    with pytest.raises(ValueError):
        io.write_npz(tmp_path / "w.npz", [("bad", np.array([{"a": 1}], dtype=object))])


class _Boom:
    """Unpickling this would create a file: proof that nothing got unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickled_object_array_is_refused(tmp_path):
    g, weights = _graph()
    io.save(g, weights, tmp_path)
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = _Boom(str(marker))
    # replace weights.npz by one holding a pickled object array next to a normal one
    with zipfile.ZipFile(tmp_path / "weights.npz", "w") as zf:
        with zf.open("ok.npy", "w") as f:
            np.lib.format.write_array(f, np.ones(2, np.float32))
        with zf.open("evil.npy", "w") as f:
            np.lib.format.write_array(f, evil, allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle"):
        io.load(tmp_path)
    with pytest.raises(ValueError):
        list(io.iter_npz(tmp_path / "weights.npz"))
    assert not marker.exists()


def test_np_savez_object_array_is_refused(tmp_path):
    np.savez(tmp_path / "w.npz", a=np.array([[1], "x"], dtype=object))
    with pytest.raises(ValueError):
        dict(io.iter_npz(tmp_path / "w.npz"))


def test_weight_names_by_node_and_after_changes():
    """weight_names: the tensors named <node>.<role> (role without a dot), node names with
    dots included; the index follows changes to the graph's tensors."""
    def info():
        return TensorInfo("t", "float32", (2,))

    g = Graph([Node("a", "Relu", ["x"]), Node("a.b", "Relu", ["a"]), Node("c", "Relu", ["a"])])
    g.tensors = {"a.weight": info(), "a.b.weight": info(), "a.b.bias": info(), "a.": info()}

    def brute(node):   # the definition, by scanning every tensor
        p = node.name + "."
        return {t[len(p):]: t for t in g.tensors if t.startswith(p) and "." not in t[len(p):]}

    for n in g.nodes:
        assert g.weight_names(n) == brute(n)
    assert g.weight_names(g.nodes[1]) == {"weight": "a.b.weight", "bias": "a.b.bias"}
    assert g.weight_names(g.nodes[0]) == {"weight": "a.weight", "": "a."}
    g.weight_names(g.nodes[2])["x"] = "c.x"   # a copy: the index is not changed through it
    assert g.weight_names(g.nodes[2]) == {}
    g.tensors["c.scale"] = info()             # added, then renamed (same count)
    assert g.weight_names(g.nodes[2]) == {"scale": "c.scale"}
    g.tensors["c.shift"] = g.tensors.pop("c.scale")
    assert g.weight_names(g.nodes[2]) == {"shift": "c.shift"} == brute(g.nodes[2])
