"""Elementwise ops (Constant, unary math and activations, broadcasting binary and variadic
ops): reference implementations against torch, shape inference, attribute validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _ir_check import close, run_op, t64

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Graph, Node, TensorInfo
from nnrosetta.ir.ops._elementwise import erf

R = np.random.default_rng(20240607)


def randn(*shape):
    return R.standard_normal(shape).astype(np.float32)


def uniform(lo, hi, *shape):
    return R.uniform(lo, hi, shape).astype(np.float32)


# ----------------------------------------------------------------------------- unary, no attrs
SHAPE = (2, 3, 4, 5)
UNARY_CASES = {
    # op: (input, torch function)
    "Neg": (randn(*SHAPE), torch.neg),
    "Exp": (randn(*SHAPE) * 3, torch.exp),
    "Log": (uniform(0.01, 20, *SHAPE), torch.log),
    "Sqrt": (uniform(0, 20, *SHAPE), torch.sqrt),
    "Reciprocal": (np.sign(randn(*SHAPE)) * uniform(0.1, 5, *SHAPE), torch.reciprocal),
    "Floor": (randn(*SHAPE) * 5, torch.floor),
    "Ceil": (randn(*SHAPE) * 5, torch.ceil),
    "Round": (randn(*SHAPE) * 5, torch.round),
    "Sign": (np.concatenate([randn(20), np.zeros(3, np.float32)]), torch.sign),
    "Sin": (randn(*SHAPE) * 4, torch.sin),
    "Cos": (randn(*SHAPE) * 4, torch.cos),
    "Tan": (uniform(-1.3, 1.3, *SHAPE), torch.tan),
    "Asin": (uniform(-1, 1, *SHAPE), torch.asin),
    "Acos": (uniform(-1, 1, *SHAPE), torch.acos),
    "Atan": (randn(*SHAPE) * 4, torch.atan),
    "Sinh": (randn(*SHAPE) * 3, torch.sinh),
    "Cosh": (randn(*SHAPE) * 3, torch.cosh),
    "Asinh": (randn(*SHAPE) * 4, torch.asinh),
    "Acosh": (uniform(1, 20, *SHAPE), torch.acosh),
    "Atanh": (uniform(-0.99, 0.99, *SHAPE), torch.atanh),
    "Erf": (randn(*SHAPE) * 2, torch.erf),
    "Softplus": (randn(*SHAPE) * 10, lambda x: torch.log1p(torch.exp(x))),
    "Softsign": (randn(*SHAPE) * 4, F.softsign),
    "Mish": (randn(*SHAPE) * 4, F.mish),
    "HardSwish": (randn(*SHAPE) * 4, F.hardswish),
}


@pytest.mark.parametrize("op", sorted(UNARY_CASES))
def test_unary(op):
    x, fn = UNARY_CASES[op]
    (y,) = run_op(op, {}, [x])
    close(y, fn(t64(x)))


@pytest.mark.parametrize("op", sorted(UNARY_CASES))
def test_unary_shape_and_no_attrs(op):
    schema = registry.get(op)
    assert schema.attrs == {} and schema.inputs == ("X",) and schema.outputs == ("Y",)
    assert schema.infer_fn({}, [(3, 1, 7)], {}) == [(3, 1, 7)]
    assert schema.infer_fn({}, [()], {}) == [()]
    assert "Equivalents" in schema.doc and "ONNX" in schema.doc
    node = Node("n", op, ["x"], {"alpha": 1.0})
    assert schema.validate(node) == ["unknown attribute 'alpha'"]


def test_round_halves_to_even():
    x = np.array([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.49999997, 3.7], np.float32)
    (y,) = run_op("Round", {}, [x])
    np.testing.assert_array_equal(y, [-2, -2, -0, 0, 2, 2, 0, 4])


def test_softplus_extremes():
    x = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0], np.float32)
    (y,) = run_op("Softplus", {}, [x])
    assert np.all(np.isfinite(y))
    close(y, F.softplus(t64(x)))


def test_domain_edges_are_ieee():
    (y,) = run_op("Log", {}, [np.array([-1.0, 0.0, 1.0], np.float32)])
    assert np.isnan(y[0]) and y[1] == -np.inf and y[2] == 0
    (y,) = run_op("Reciprocal", {}, [np.array([0.0, -0.0], np.float32)])
    assert list(y) == [np.inf, -np.inf]


def test_erf_matches_math_erf():
    x = np.concatenate([np.linspace(-6, 6, 4001), [0.0, 1e-20, -3e-9, 0.4999, 0.5]])
    ref = np.array([math.erf(v) for v in x])
    got = erf(x)
    rel = np.abs(got - ref) / np.maximum(np.abs(ref), 1e-300)
    assert rel.max() < 2e-7
    assert erf(np.array([np.inf, -np.inf], np.float32)).tolist() == [1.0, -1.0]
    assert erf(np.float32(0.3) * np.ones(2, np.float32)).dtype == np.float32


# ----------------------------------------------------------------------------- unary, attrs
X_ACT = randn(2, 3, 4, 5) * 3
ACT_CASES = {
    "HardSigmoid": ({}, lambda x: torch.clamp(0.2 * x + 0.5, 0, 1)),
    "HardSigmoid_torch": ({"alpha": 1 / 6, "beta": 0.5}, F.hardsigmoid),
    "HardSigmoid_custom": ({"alpha": 0.7, "beta": -0.1},
                           lambda x: torch.clamp(0.7 * x - 0.1, 0, 1)),
    "Selu": ({}, F.selu),
    "Selu_custom": ({"alpha": 2.0, "gamma": 3.0}, lambda x: 3.0 * F.elu(x, 2.0)),
    "Celu": ({}, F.celu),
    "Celu_0.5": ({"alpha": 0.5}, lambda x: F.celu(x, 0.5)),
    "Celu_neg": ({"alpha": -2.0}, lambda x: torch.clamp(x, min=0)
                 + torch.clamp(-2.0 * torch.expm1(x / -2.0), max=0)),
    "ThresholdedRelu": ({}, lambda x: F.threshold(x, 1.0, 0.0)),
    "ThresholdedRelu_neg": ({"alpha": -0.5}, lambda x: F.threshold(x, -0.5, 0.0)),
    "Gelu": ({}, F.gelu),
    "Gelu_tanh": ({"approximate": "tanh"}, lambda x: F.gelu(x, approximate="tanh")),
    "Clip": ({}, lambda x: x),
    "Clip_relu6": ({"min": 0.0, "max": 6.0}, F.relu6),
    "Clip_min": ({"min": -1.0}, lambda x: torch.clamp(x, min=-1.0)),
    "Clip_max": ({"max": 0.5}, lambda x: torch.clamp(x, max=0.5)),
    "Clip_both": ({"min": -1.5, "max": 2.5}, lambda x: torch.clamp(x, -1.5, 2.5)),
    "Clip_inverted": ({"min": 2.0, "max": 1.0}, lambda x: torch.full_like(x, 1.0)),
    "Shrink": ({}, lambda x: F.hardshrink(x, 0.5)),
    "Shrink_soft": ({"bias": 1.5, "lambd": 1.5}, lambda x: F.softshrink(x, 1.5)),
    "Shrink_custom": ({"bias": 0.3, "lambd": 1.0},
                      lambda x: torch.where(x < -1, x + 0.3,
                                            torch.where(x > 1, x - 0.3, torch.zeros_like(x)))),
    "Shrink_negative_lambd": ({"bias": 0.3, "lambd": -1.0},
                              lambda x: torch.where(x < 1, x + 0.3, x - 0.3)),
}


@pytest.mark.parametrize("case", sorted(ACT_CASES))
def test_unary_attrs(case):
    attrs, fn = ACT_CASES[case]
    (y,) = run_op(case.split("_")[0], attrs, [X_ACT])
    close(y, fn(t64(X_ACT)))


def test_attr_defaults_match_onnx():
    get = registry.get
    assert get("HardSigmoid").with_defaults({}) == {"alpha": 0.2, "beta": 0.5}
    assert get("Selu").with_defaults({}) == {"alpha": 1.67326319217681884765625,
                                             "gamma": 1.05070102214813232421875}
    assert get("Celu").with_defaults({}) == {"alpha": 1.0}
    assert get("ThresholdedRelu").with_defaults({}) == {"alpha": 1.0}
    assert get("Gelu").with_defaults({}) == {"approximate": "none"}
    assert get("Clip").with_defaults({}) == {"min": -math.inf, "max": math.inf}
    assert get("Shrink").with_defaults({}) == {"bias": 0.0, "lambd": 0.5}


@pytest.mark.parametrize("op,attrs,problem", [
    ("Gelu", {"approximate": "erf"}, "must be one of"),
    ("Gelu", {"approximate": 1}, "must be str"),
    ("HardSigmoid", {"alpha": "0.2"}, "must be float"),
    ("Selu", {"gamma": True}, "must be float"),
    ("Clip", {"min": [0.0]}, "must be float"),
    ("Shrink", {"lambda": 0.5}, "unknown attribute"),
    ("Celu", {"alpha": None}, "must be float"),
])
def test_bad_attrs(op, attrs, problem):
    problems = registry.get(op).validate(Node("n", op, ["x"], attrs))
    assert any(problem in p for p in problems), problems


def test_celu_rejects_zero_alpha():
    schema = registry.get("Celu")
    with pytest.raises(ValueError, match="alpha"):
        schema.infer_fn({"alpha": 0.0}, [(2, 3)], {})


def test_int_attrs_accepted_as_float():
    (y,) = run_op("Clip", {"min": 0, "max": 1}, [X_ACT])
    close(y, torch.clamp(t64(X_ACT), 0, 1))


# ----------------------------------------------------------------------------- binary
BROADCAST = {
    # id: (shape A, shape B)
    "same": ((2, 3, 4, 5), (2, 3, 4, 5)),
    "channel": ((2, 3, 4, 5), (3, 1, 1)),
    "scalar": ((2, 3, 4, 5), ()),
    "scalar_first": ((), (2, 3)),
    "trailing": ((2, 3, 4, 5), (5,)),
    "both_ways": ((2, 1, 4, 1), (3, 1, 5)),
    "ones": ((1, 1), (4, 1, 3)),
}
BINARY = {
    "Sub": lambda a, b: a - b,
    "Div": lambda a, b: a / b,
    "Pow": torch.pow,
}


def _binary_inputs(op, sa, sb):
    a, b = randn(*sa), randn(*sb)
    if op == "Div":
        b = np.sign(b) * (np.abs(b) + 0.5)
    if op == "Pow":
        a = np.abs(a) + 0.1
    return a, b


@pytest.mark.parametrize("case", sorted(BROADCAST))
@pytest.mark.parametrize("op", sorted(BINARY))
def test_binary_broadcast(op, case):
    sa, sb = BROADCAST[case]
    a, b = _binary_inputs(op, sa, sb)
    (y,) = run_op(op, {}, [a, b])
    assert y.shape == np.broadcast_shapes(sa, sb)
    close(y, BINARY[op](t64(a), t64(b)))


def test_pow_negative_base_integer_exponent():
    a = randn(3, 4) * 2
    b = np.array([[2.0, 3.0, -1.0, 0.0]], np.float32)
    (y,) = run_op("Pow", {}, [a, b])
    close(y, torch.pow(t64(a), t64(b)))
    (y,) = run_op("Pow", {}, [np.array([-8.0], np.float32), np.array([1 / 3], np.float32)])
    assert np.isnan(y[0])


def test_pow_int_exponent_keeps_float32():
    schema = registry.get("Pow")
    a = randn(2, 3)
    (y,) = schema.reference_fn({}, [a, np.array(3, np.int64)], {})
    assert y.dtype == np.float32
    close(y, t64(a) ** 3)


def test_div_by_zero_is_ieee():
    a = np.array([1.0, -1.0, 0.0], np.float32)
    (y,) = run_op("Div", {}, [a, np.zeros(1, np.float32)])
    assert y[0] == np.inf and y[1] == -np.inf and np.isnan(y[2])


@pytest.mark.parametrize("op", ["Sub", "Div", "Pow"])
def test_binary_needs_two_inputs(op):
    schema = registry.get(op)
    assert schema.validate(Node("n", op, ["a"])) == ["needs 2 inputs, has 1"]
    assert schema.validate(Node("n", op, ["a", "b", "c"])) == ["needs 2 inputs, has 3"]
    with pytest.raises(ValueError, match="broadcast"):
        schema.infer_fn({}, [(2, 3), (4,)], {})


# ----------------------------------------------------------------------------- variadic
VARIADIC = {
    # op: torch reduction of the broadcast inputs
    "Min": lambda xs: _fold(torch.minimum, xs),
    "Sum": lambda xs: _fold(torch.add, xs),
    "Mean": lambda xs: _fold(torch.add, xs) / len(xs),
    "Add": lambda xs: _fold(torch.add, xs),
    "Mul": lambda xs: _fold(torch.mul, xs),
    "Max": lambda xs: _fold(torch.maximum, xs),
}
VARIADIC_SHAPES = {
    "one": [(2, 3, 4)],
    "two_same": [(2, 3, 4), (2, 3, 4)],
    "three_broadcast": [(2, 3, 4, 5), (3, 1, 1), (5,)],
    "grow_both_ways": [(2, 1, 4), (3, 1), (1, 1, 1, 1)],
    "scalar": [(), (2, 3)],
}


def _fold(fn, xs):
    y = xs[0]
    for x in xs[1:]:
        y = fn(y, x)
    return y


@pytest.mark.parametrize("case", sorted(VARIADIC_SHAPES))
@pytest.mark.parametrize("op", sorted(VARIADIC))
def test_variadic_broadcast(op, case):
    shapes = VARIADIC_SHAPES[case]
    xs = [randn(*s) for s in shapes]
    (y,) = run_op(op, {}, xs)
    assert y.shape == np.broadcast_shapes(*shapes)
    close(y, VARIADIC[op]([t64(x) for x in xs]))


def test_add_coeffs_broadcast():
    xs = [randn(2, 3, 4), randn(3, 1)]
    (y,) = run_op("Add", {"coeffs": [2.0, -0.5]}, xs)
    close(y, 2.0 * t64(xs[0]) - 0.5 * t64(xs[1]))


@pytest.mark.parametrize("op", sorted(VARIADIC))
def test_variadic_rejects(op):
    schema = registry.get(op)
    assert schema.validate(Node("n", op, [])) == ["needs at least 1 inputs, has 0"]
    with pytest.raises(ValueError):
        schema.infer_fn(schema.with_defaults({}), [(2, 3), (2, 4)], {})


def test_min_max_nan_propagates():
    a = np.array([np.nan, 1.0, 2.0], np.float32)
    b = np.array([0.0, np.nan, 1.0], np.float32)
    for op in ("Min", "Max"):
        (y,) = run_op(op, {}, [a, b])
        assert np.isnan(y[0]) and np.isnan(y[1]) and y[2] == (1.0 if op == "Min" else 2.0)


# ----------------------------------------------------------------------------- Constant
@pytest.mark.parametrize("value", [
    np.arange(6, dtype=np.float32).reshape(2, 3),
    np.array([3, -1, 0], np.int64),
    np.array(2.5, np.float32),
    np.array([True, False]),
    np.zeros((0, 4), np.float32),
])
def test_constant(value):
    schema = registry.get("Constant")
    node = Node("c", "Constant", [])
    assert schema.validate(node, ["value"]) == []
    (y,) = schema.reference_fn({}, [], {"value": value})
    assert y.dtype == value.dtype and y.shape == value.shape
    np.testing.assert_array_equal(y, value)
    assert y is not value and not np.shares_memory(y, value)
    assert schema.infer_fn({}, [], {"value": value.shape}) == [value.shape]


def test_constant_needs_value_and_no_inputs():
    schema = registry.get("Constant")
    assert schema.validate(Node("c", "Constant", [])) == ["weight 'value' is missing"]
    assert schema.validate(Node("c", "Constant", ["x"]), ["value"]) == ["needs 0 inputs, has 1"]
    assert schema.validate(Node("c", "Constant", []), ["value", "bias"]) == \
        ["unknown weight 'bias'"]


def test_constant_in_a_graph():
    """Constants feed broadcasting ops; shapes and reference run through the whole graph."""
    nodes = [Node("x", "Input", [], {"shape": [2, 3, 4]}), Node("c", "Constant"),
             Node("e", "Constant"), Node("d", "Sub", ["x", "c"]),
             Node("p", "Pow", ["d", "e"]), Node("m", "Min", ["p", "c", "x"])]
    w = {"c.value": randn(3, 1), "e.value": np.array(2, np.int64)}
    g = Graph(nodes, ["m"], {}, {k: TensorInfo(k, str(v.dtype), v.shape) for k, v in w.items()})
    assert registry.validate(g) == []
    shapes = registry.infer_shapes(g)
    assert shapes["c"] == (3, 1) and shapes["e"] == () and shapes["m"] == (2, 3, 4)
    x = randn(2, 3, 4)
    (y,) = registry.run_reference(g, w, {"x": x}).values()
    assert y.dtype == np.float32
    c = t64(w["c.value"])
    close(y, torch.minimum(torch.minimum((t64(x) - c) ** 2, c), t64(x)))
