"""Importers of MaxPool / AveragePool in 1-D and 3-D and with dilations, LpPool, GlobalLpPool,
LpNormalization, MeanVarianceNormalization, Swish, SwiGLU and Mod: ONNX models built here,
converted to IR, and the IR's NumPy reference compared with onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from tests.frontend_onnx._models import check_against_ort, make, ort_run, rng, to_ir

H = helper.make_node


def _ops(graph):
    return [n.op for n in graph.nodes if n.op not in ("Input", "Constant")]


POOLS = {
    "max_1d": ("MaxPool", [2, 3, 11], {"kernel_shape": [3], "strides": [2], "pads": [1, 2]}),
    "avg_1d_ceil": ("AveragePool", [2, 3, 11], {"kernel_shape": [3], "strides": [2],
                                                "ceil_mode": 1, "pads": [1, 0]}),
    "max_2d_dilations": ("MaxPool", [1, 2, 9, 9], {"kernel_shape": [2, 2],
                                                   "dilations": [2, 3]}),
    "avg_2d_dilations": ("AveragePool", [1, 2, 9, 9], {"kernel_shape": [2, 2],
                                                       "dilations": [2, 2],
                                                       "pads": [1, 0, 1, 1]}),
    "max_3d": ("MaxPool", [1, 2, 6, 7, 5], {"kernel_shape": [2, 3, 2],
                                            "strides": [2, 1, 2]}),
    "max_3d_same_upper": ("MaxPool", [1, 2, 6, 7, 5], {"kernel_shape": [3, 2, 2],
                                                       "strides": [2, 2, 1],
                                                       "auto_pad": "SAME_UPPER"}),
    "avg_3d_include": ("AveragePool", [1, 2, 6, 7, 5], {"kernel_shape": [2, 2, 2],
                                                        "pads": [1, 1, 0, 1, 0, 1],
                                                        "count_include_pad": 1}),
    "avg_3d_dilations_ceil": ("AveragePool", [1, 1, 9, 8, 7],
                              {"kernel_shape": [2, 2, 2], "strides": [2, 2, 2],
                               "dilations": [2, 2, 1], "ceil_mode": 1,
                               "count_include_pad": 1, "pads": [1, 1, 1, 0, 0, 0]}),
    "lp_1d": ("LpPool", [2, 3, 11], {"kernel_shape": [3], "strides": [2], "p": 3}),
    "lp_2d_pads": ("LpPool", [1, 2, 8, 7], {"kernel_shape": [3, 3], "pads": [1, 0, 2, 1]}),
    "lp_2d_dilations": ("LpPool", [1, 2, 8, 7], {"kernel_shape": [2, 2],
                                                 "dilations": [2, 2]}),
    "lp_3d_same_lower": ("LpPool", [1, 2, 6, 7, 5], {"kernel_shape": [2, 2, 2],
                                                     "auto_pad": "SAME_LOWER"}),
}


@pytest.mark.parametrize("case", sorted(POOLS))
def test_pool(case, tmp_path):
    op, shape, attrs = POOLS[case]
    m = make([H(op, ["x"], ["y"], name="pool", **attrs)], {"x": shape}, {"y": None},
             opset=19)
    g = check_against_ort(m, tmp_path)
    assert _ops(g) == ["LpPool" if op == "LpPool" else "Pool"]
    n = g.node("pool")
    assert len(n.attrs["kernel_shape"]) == len(shape) - 2
    if "dilations" in attrs:
        assert n.attrs["dilations"] == attrs["dilations"]


@pytest.mark.parametrize("op,shape", [("GlobalLpPool", [2, 3, 7]),
                                      ("GlobalLpPool", [1, 2, 4, 5, 3]),
                                      ("GlobalMaxPool", [2, 3, 7]),
                                      ("GlobalAveragePool", [1, 2, 4, 5, 3])])
def test_global_pool(op, shape, tmp_path):
    attrs = {"p": 3} if op == "GlobalLpPool" else {}
    m = make([H(op, ["x"], ["y"], **attrs)], {"x": shape}, {"y": None}, opset=17)
    g = check_against_ort(m, tmp_path)
    assert [n.attrs.get("global_pooling") for n in g.nodes if n.op != "Input"] == [True]


def test_pool_rank_6_is_unsupported(tmp_path):
    from nnrosetta.rpc.errors import ConversionError

    m = make([H("MaxPool", ["x"], ["y"], kernel_shape=[2, 2, 2, 2])],
             {"x": [1, 1, 4, 4, 4, 4]}, {"y": None})
    with pytest.raises(ConversionError, match="1 to 3 spatial axes"):
        to_ir(m, tmp_path)


@pytest.mark.parametrize("p,axis", [(1, -1), (2, 1), (2, 0)])
def test_lp_normalization(p, axis, tmp_path):
    m = make([H("LpNormalization", ["x"], ["y"], p=p, axis=axis)], {"x": [3, 4, 5]},
             {"y": None})
    g = check_against_ort(m, tmp_path)
    assert _ops(g) == ["LpNormalization"]


@pytest.mark.parametrize("axes", [None, [2, 3], [1]])
def test_mean_variance_normalization(axes, tmp_path):
    attrs = {} if axes is None else {"axes": axes}
    m = make([H("MeanVarianceNormalization", ["x"], ["y"], **attrs)], {"x": [2, 3, 4, 5]},
             {"y": None}, opset=13)
    g = check_against_ort(m, tmp_path, tol=1e-4)
    assert g.nodes[-1].attrs["axes"] == (axes or [0, 2, 3])


def _reference(m, feeds):
    from onnx.reference import ReferenceEvaluator

    return ReferenceEvaluator(m).run(None, feeds)


@pytest.mark.parametrize("alpha", [1.0, 0.5])
def test_swish_and_swiglu(alpha, tmp_path):
    """Swish is opset 24, SwiGLU opset 28: compared with ONNX's reference evaluator
    (onnxruntime may not run opsets that new)."""
    from nnrosetta.ir import registry

    r = rng(3)
    a, b = r(2, 6), r(2, 6)
    m = make([H("Swish", ["a"], ["s"], alpha=alpha), H("SwiGLU", ["a", "b"], ["y"],
                                                       alpha=alpha)],
             {"a": [2, 6], "b": [2, 6]}, {"s": None, "y": None}, opset=28)
    g, w = to_ir(m, tmp_path)
    assert _ops(g) == ["Swish", "SwiGLU"]
    feeds = {n.name: {"a": a, "b": b}[n.attrs["_source_name"]] for n in g.inputs}
    got = registry.run_reference(g, w, feeds)
    want = _reference(m, {"a": a, "b": b})
    for ref, exp in zip(g.outputs, want, strict=True):
        np.testing.assert_allclose(got[ref], exp, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fmod", [0, 1])
def test_mod(fmod, tmp_path):
    from nnrosetta.ir import registry

    a = np.array([[5.5, -5.5, 5.5, -5.5, 3.0, -1.0]], np.float32)
    b = np.array([[2.0, 2.0, -2.0, -2.0, np.inf, np.inf]], np.float32)
    m = make([H("Mod", ["a", "b"], ["y"], fmod=fmod)], {"a": [1, 6], "b": [1, 6]},
             {"y": None}, opset=13)
    g, w = to_ir(m, tmp_path)
    assert _ops(g) == ["Mod"] and g.nodes[-1].attrs["fmod"] is bool(fmod)
    feeds = {n.name: {"a": a, "b": b}[n.attrs["_source_name"]] for n in g.inputs}
    got = registry.run_reference(g, w, feeds)[g.outputs[0]]
    want = ort_run(m, {"a": a, "b": b})["y"] if fmod else np.mod(a, b)   # ORT: fmod=1 only
    np.testing.assert_array_equal(got, want)
