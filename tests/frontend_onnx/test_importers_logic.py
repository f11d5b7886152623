"""Importers of the comparison and logic ops (Less, LessOrEqual, Greater, GreaterOrEqual,
Equal, Not, And, Or, Xor, Where, IsNaN, IsInf): ONNX models built here, converted to IR, and
the IR's NumPy reference compared exactly with onnxruntime (bool outputs included)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from nnrosetta.ir import registry
from tests.frontend_onnx._models import init, ort_run, to_ir

H = helper.make_node
F, B = TensorProto.FLOAT, TensorProto.BOOL
R = np.random.default_rng(11)


def make(nodes, inputs: dict, outputs: dict, inits=(), opset: int = 17):
    """Float inputs; outputs given as name -> (elem type, shape)."""
    g = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info(k, F, v) for k, v in inputs.items()],
        [helper.make_tensor_value_info(k, t, s) for k, (t, s) in outputs.items()], list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = min(helper.find_min_ir_version_for([helper.make_opsetid("", opset)]) + 1,
                       10)
    return m


def ties(*shape) -> np.ndarray:
    return R.integers(-2, 3, shape).astype(np.float32)


def check(m, tmp_path, feeds=None):
    """IR reference == onnxruntime, exactly, dtype included; returns the IR graph."""
    graph, weights = to_ir(m, tmp_path)
    feeds = feeds or {n.name: ties(*n.attrs["shape"]) for n in graph.inputs}
    want = ort_run(m, {n.attrs["_source_name"]: feeds[n.name] for n in graph.inputs})
    got = registry.run_reference(graph, weights, feeds)
    for ref, o in zip(graph.outputs, m.graph.output, strict=True):
        have, exp = got[ref], want[o.name]
        assert have.dtype == exp.dtype and have.shape == exp.shape, (o.name, have.dtype,
                                                                     exp.dtype)
        np.testing.assert_array_equal(have, exp)
    return graph


def ops(graph):
    return [n.op for n in graph.nodes if n.op not in ("Input", "Constant")]


COMPARISONS = {"Less": 7, "Greater": 7, "Equal": 11, "LessOrEqual": 12, "GreaterOrEqual": 12}


@pytest.mark.parametrize("op,opset", [(op, v) for op in sorted(COMPARISONS)
                                       for v in (7, 9, 11, 12, 13, 17, 21)
                                       if v >= COMPARISONS[op]])
def test_comparison(op, opset, tmp_path):
    """(Equal takes floats from opset 11, LessOrEqual/GreaterOrEqual exist from 12.)"""
    m = make([H(op, ["a", "b"], ["y"], name="cmp")], {"a": [2, 3, 4], "b": [3, 1]},
             {"y": (B, [2, 3, 4])}, opset=opset)
    g = check(m, tmp_path)
    assert ops(g) == [op] and g.node("cmp").attrs["_source_name"] == "y"


@pytest.mark.parametrize("op", sorted(COMPARISONS))
def test_comparison_with_constant(op, tmp_path):
    m = make([H(op, ["k", "x"], ["y"])], {"x": [2, 5]}, {"y": (B, [2, 5])},
             [init("k", np.array([0.0, 1.0, -1.0, 2.0, 0.5], np.float32))])
    check(m, tmp_path)


@pytest.mark.parametrize("op", ["And", "Or", "Xor"])
@pytest.mark.parametrize("opset", [7, 13, 17])
def test_logic(op, opset, tmp_path):
    m = make([H("Greater", ["a", "zero"], ["pa"]), H("Less", ["b", "zero"], ["pb"]),
              H(op, ["pa", "pb"], ["y"]), H(op, ["pa", "mask"], ["z"])],
             {"a": [2, 3, 4], "b": [4]}, {"y": (B, [2, 3, 4]), "z": (B, [2, 3, 4])},
             [init("zero", np.array(0.0, np.float32)),
              init("mask", np.array([True, False, True, False]))], opset)
    g = check(m, tmp_path)
    assert ops(g) == ["Greater", "Less", op, op]
    consts = {n.attrs["_source_name"]: n.name for n in g.nodes if n.op == "Constant"}
    assert g.tensors[f"{consts['mask']}.value"].dtype == "bool"


def test_not_and_equal_on_bools(tmp_path):
    m = make([H("Less", ["x", "x2"], ["lt"]), H("Not", ["lt"], ["n"]),
              H("Equal", ["n", "mask"], ["eq"])],
             {"x": [2, 3], "x2": [2, 3]}, {"n": (B, [2, 3]), "eq": (B, [2, 3])},
             [init("mask", np.array([[True, False, True]] * 2))], opset=13)
    g = check(m, tmp_path)
    assert ops(g) == ["Less", "Not", "Equal"]


@pytest.mark.parametrize("opset", [9, 16, 17])
def test_where(opset, tmp_path):
    m = make([H("Less", ["x", "zero"], ["neg"]), H("Where", ["neg", "k", "x"], ["y"]),
              H("Where", ["mask", "x", "zero"], ["z"])],
             {"x": [2, 3, 4]}, {"y": (F, [2, 3, 4]), "z": (F, [2, 3, 4])},
             [init("zero", np.array(0.0, np.float32)),
              init("k", np.array([[-1.0], [-2.0], [-3.0]], np.float32)),
              init("mask", R.random((3, 4)) < 0.5)], opset)
    g = check(m, tmp_path)
    assert ops(g) == ["Less", "Where", "Where"]


def test_leaky_relu_expanded_body(tmp_path):
    """The LeakyRelu-16 function body: CastLike of a constant, Less, Mul, Where."""
    m = make([H("Constant", [], ["alpha"], value_float=0.1),
              H("CastLike", ["alpha", "x"], ["alpha_t"]),
              H("Constant", [], ["zero"], value_float=0.0),
              H("CastLike", ["zero", "x"], ["zero_t"]),
              H("Less", ["x", "zero_t"], ["lt"]), H("Mul", ["alpha_t", "x"], ["ax"]),
              H("Where", ["lt", "ax", "x"], ["y"])],
             {"x": [3, 4, 5]}, {"y": (F, [3, 4, 5])}, opset=16)
    g = check(m, tmp_path, {"x": R.standard_normal((3, 4, 5)).astype(np.float32)})
    # CastLike of a constant to a computed tensor's type is an Identity (frontend's constants.py)
    assert [o for o in ops(g) if o != "Identity"] == ["Less", "Mul", "Where"]


def test_constant_comparisons_are_folded(tmp_path):
    m = make([H("Less", ["a", "b"], ["c"]), H("Not", ["c"], ["nc"]),
              H("Where", ["nc", "x", "b"], ["y"])],
             {"x": [3]}, {"y": (F, [3])},
             [init("a", np.array([1.0, 2.0, 3.0], np.float32)),
              init("b", np.array([2.0, 2.0, 2.0], np.float32))])
    g = check(m, tmp_path)
    assert ops(g) == ["Where"]


@pytest.mark.parametrize("opset", [10, 13, 20])
@pytest.mark.parametrize("attrs", [{}, {"detect_negative": 0}, {"detect_positive": 0},
                                   {"detect_negative": 0, "detect_positive": 0}])
def test_isinf_isnan(attrs, opset, tmp_path):
    m = make([H("IsInf", ["x"], ["inf"], **attrs), H("IsNaN", ["x"], ["nan"])],
             {"x": [2, 4]}, {"inf": (B, [2, 4]), "nan": (B, [2, 4])}, opset=opset)
    x = np.array([[np.nan, np.inf, -np.inf, 0.0], [1.0, -np.inf, np.nan, 3e38]], np.float32)
    g = check(m, tmp_path, {"x": x})
    n = next(n for n in g.nodes if n.op == "IsInf")
    assert n.attrs["detect_negative"] is bool(attrs.get("detect_negative", 1))
    assert n.attrs["detect_positive"] is bool(attrs.get("detect_positive", 1))
