"""Comparison and logic ops (Less, LessOrEqual, Greater, GreaterOrEqual, Equal, Not, And, Or,
Xor, Where, IsNaN, IsInf) and Cast: reference implementations against torch, bool outputs,
broadcasting shape inference, attribute validation, and a whole graph through run_reference."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Graph, Node, TensorInfo

R = np.random.default_rng(20240611)


def ints_as_float(*shape) -> np.ndarray:
    """Small integers as float32, so that comparisons meet many ties."""
    return R.integers(-2, 3, shape).astype(np.float32)


def bools(*shape) -> np.ndarray:
    return R.random(shape) < 0.5


def run(op: str, attrs: dict, inputs: list[np.ndarray]) -> np.ndarray:
    """Validate, run the reference, check infer() agrees; the single output."""
    schema = registry.get(op)
    node = Node("n", op, [f"x{i}" for i in range(len(inputs))], dict(attrs))
    assert schema.validate(node) == []
    full = schema.with_defaults(attrs)
    (y,) = schema.reference_fn(full, inputs, {})
    (shape,) = schema.infer_fn(full, [x.shape for x in inputs], {})
    assert isinstance(y, np.ndarray) and y.shape == tuple(shape)
    return y


def same(got: np.ndarray, expected: torch.Tensor) -> None:
    exp = expected.numpy()
    assert got.dtype == exp.dtype, (got.dtype, exp.dtype)
    np.testing.assert_array_equal(got, exp)


COMPARISONS = {"Less": torch.lt, "LessOrEqual": torch.le, "Greater": torch.gt,
               "GreaterOrEqual": torch.ge, "Equal": torch.eq}
LOGIC = {"And": torch.logical_and, "Or": torch.logical_or, "Xor": torch.logical_xor}
SHAPES = [((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 2)),
          ((1,), ())]


@pytest.mark.parametrize("sa,sb", SHAPES)
@pytest.mark.parametrize("op", sorted(COMPARISONS))
def test_comparison(op, sa, sb):
    a, b = ints_as_float(*sa), ints_as_float(*sb)
    y = run(op, {}, [a, b])
    assert y.dtype == np.bool_
    same(y, COMPARISONS[op](torch.from_numpy(a), torch.from_numpy(b)))


@pytest.mark.parametrize("op", sorted(COMPARISONS))
def test_comparison_special_values(op):
    a = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0], np.float32)
    b = np.array([np.nan, np.inf, 0.0, -0.0, 0.0, np.nan], np.float32)
    same(run(op, {}, [a, b]), COMPARISONS[op](torch.from_numpy(a), torch.from_numpy(b)))


@pytest.mark.parametrize("op", sorted(COMPARISONS))
def test_comparison_mixed_dtypes(op):
    """An int64 constant against float activations compares as numbers; bools as 0/1."""
    a = np.array([-1.5, 0.0, 1.0, 2.5], np.float32)
    k = np.array(1, np.int64)
    same(run(op, {}, [a, k]), COMPARISONS[op](torch.from_numpy(a), torch.tensor(1.0)))
    t = np.array([True, False, True, False])
    same(run(op, {}, [t, a]),
         COMPARISONS[op](torch.from_numpy(t).float(), torch.from_numpy(a)))


@pytest.mark.parametrize("sa,sb", SHAPES)
@pytest.mark.parametrize("op", sorted(LOGIC))
def test_logic(op, sa, sb):
    a, b = bools(*sa), bools(*sb)
    y = run(op, {}, [a, b])
    same(y, LOGIC[op](torch.from_numpy(np.asarray(a)), torch.from_numpy(np.asarray(b))))


@pytest.mark.parametrize("op", sorted(LOGIC))
def test_logic_non_bool_is_nonzero(op):
    a = np.array([0.0, 2.0, -1.0, 0.0], np.float32)
    b = np.array([True, True, False, False])
    same(run(op, {}, [a, b]), LOGIC[op](torch.from_numpy(a) != 0, torch.from_numpy(b)))


def test_not():
    x = bools(2, 3, 4)
    same(run("Not", {}, [x]), torch.logical_not(torch.from_numpy(x)))
    same(run("Not", {}, [np.array([0.0, 3.0], np.float32)]), torch.tensor([True, False]))


@pytest.mark.parametrize("sc,sx,sy", [((2, 3, 4), (2, 3, 4), (2, 3, 4)),
                                      ((3, 1), (2, 1, 4), ()), ((4,), (1,), (3, 4))])
def test_where(sc, sx, sy):
    c, x, y = bools(*sc), R.standard_normal(sx).astype(np.float32), \
        R.standard_normal(sy).astype(np.float32)
    z = run("Where", {}, [np.asarray(c), x, y])
    assert z.dtype == np.float32
    same(z, torch.where(torch.from_numpy(np.asarray(c)), torch.from_numpy(x),
                        torch.from_numpy(y)))


def test_where_dtypes():
    c = np.array([True, False, True])
    i = run("Where", {}, [c, np.array([1, 2, 3], np.int64), np.array(7, np.int64)])
    assert i.dtype == np.int64 and i.tolist() == [1, 7, 3]
    f = run("Where", {}, [c, np.array([1, 2, 3], np.int64), np.float32(0.5) * np.ones(3,
                                                                                    np.float32)])
    assert f.dtype == np.float32 and f.tolist() == [1.0, 0.5, 3.0]
    # a float condition counts as true where non-zero
    g = run("Where", {}, [np.array([0.0, 2.0, -1.0], np.float32),
                          np.ones(3, np.float32), np.zeros(3, np.float32)])
    assert g.tolist() == [0.0, 1.0, 1.0]


SPECIAL = np.array([[np.nan, np.inf, -np.inf], [0.0, -1e38, 3.0]], np.float32)


def test_isnan():
    same(run("IsNaN", {}, [SPECIAL]), torch.isnan(torch.from_numpy(SPECIAL)))
    assert run("IsNaN", {}, [np.array([1, 2], np.int64)]).tolist() == [False, False]


@pytest.mark.parametrize("neg,pos,fn", [
    (True, True, torch.isinf), (False, True, torch.isposinf), (True, False, torch.isneginf),
    (False, False, lambda x: torch.zeros_like(x, dtype=torch.bool))])
def test_isinf(neg, pos, fn):
    y = run("IsInf", {"detect_negative": neg, "detect_positive": pos}, [SPECIAL])
    same(y, fn(torch.from_numpy(SPECIAL)))


def test_isinf_defaults_detect_both():
    same(run("IsInf", {}, [SPECIAL]), torch.isinf(torch.from_numpy(SPECIAL)))


ALL = [*COMPARISONS, *LOGIC, "Not", "Where", "IsNaN", "IsInf"]


@pytest.mark.parametrize("op", ALL)
def test_schema(op):
    s = registry.get(op)
    assert "Equivalents" in s.doc and "ONNX" in s.doc and "PyTorch" in s.doc
    assert s.weights == {}
    if op in COMPARISONS or op in LOGIC:
        assert s.inputs == ("A", "B") and s.attrs == {}
        with pytest.raises(ValueError, match="do not broadcast"):
            s.infer_fn({}, [(2, 3), (4,)], {})
    node = Node("n", op, ["x"] * len(s.inputs), {"alpha": 1.0})
    assert "unknown attribute 'alpha'" in s.validate(node)


def test_where_and_isinf_schemas():
    assert registry.get("Where").inputs == ("Condition", "X", "Y")
    s = registry.get("IsInf")
    assert s.attrs["detect_negative"].type == "bool" and s.attrs["detect_negative"].default
    node = Node("n", "IsInf", ["x"], {"detect_negative": 1})
    assert s.validate(node) == ["attribute 'detect_negative' must be bool, got 1"]
    assert registry.get("Where").infer_fn({}, [(3, 1), (1, 4), (2, 1, 1)], {}) == [(2, 3, 4)]


def test_clip_like_graph_through_run_reference():
    """ONNX's Clip function body: Where(Less(x, min), min, Where(Less(max, x), max, x))."""
    nodes = [Node("x", "Input", [], {"shape": [2, 5]}),
             Node("lo", "Constant"), Node("hi", "Constant"),
             Node("below", "Less", ["x", "lo"]), Node("above", "Less", ["hi", "x"]),
             Node("upper", "Where", ["above", "hi", "x"]),
             Node("y", "Where", ["below", "lo", "upper"]),
             Node("inside", "Not", ["below"]), Node("ok", "And", ["inside", "above"]),
             Node("nan", "IsNaN", ["x"])]
    w = {"lo.value": np.array(-0.5, np.float32), "hi.value": np.array(0.5, np.float32)}
    g = Graph(nodes, ["y", "ok", "nan"], {},
              {k: TensorInfo(k, "float32", ()) for k in w})
    assert registry.validate(g) == []
    shapes = registry.infer_shapes(g)
    assert shapes["y"] == shapes["ok"] == (2, 5)
    x = R.standard_normal((2, 5)).astype(np.float32)
    out = registry.run_reference(g, w, {"x": x})
    np.testing.assert_array_equal(out["y"], np.clip(x, -0.5, 0.5))
    np.testing.assert_array_equal(out["ok"], x > 0.5)
    assert out["nan"].dtype == np.bool_ and not out["nan"].any()


# ----------------------------------------------------------------------------- Cast
TORCH_DTYPES = {"float32": torch.float32, "bool": torch.bool, "int64": torch.int64,
                "int32": torch.int32}


@pytest.mark.parametrize("to", sorted(TORCH_DTYPES))
@pytest.mark.parametrize("src", ["float32", "bool", "int64"])
def test_cast(src, to):
    x = np.array([[-2.7, -1.0, -0.0, 0.0], [0.4, 1.0, 2.5, 3.9]], np.float32)
    if src == "bool":
        x = x > 0
    elif src == "int64":
        x = x.astype(np.int64)
    y = run("Cast", {"to": to}, [x])
    assert y.dtype == np.dtype(to)
    same(y, torch.from_numpy(x).to(TORCH_DTYPES[to]))


def test_cast_schema():
    s = registry.get("Cast")
    assert s.attrs["to"].required and set(s.attrs["to"].choices) == set(TORCH_DTYPES)
    assert s.validate(Node("n", "Cast", ["x"], {})) == ["attribute 'to' is required"]
    assert "must be one of" in s.validate(Node("n", "Cast", ["x"], {"to": "complex64"}))[0]


def test_cast_copies():
    x = np.ones(3, np.float32)
    y = run("Cast", {"to": "float32"}, [x])
    y[0] = 5
    assert x[0] == 1
