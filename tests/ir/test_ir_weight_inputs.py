"""Weights bound to inputs (registry ``weight_inputs``): validation, shape inference and the
NumPy reference treat a bound input like the stored weight; LayerNormalization's Mean and
InvStdDev outputs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Graph, Node, TensorInfo

RNG = np.random.default_rng(7)


def rand(*shape, lo=None):
    a = RNG.standard_normal(shape).astype(np.float32)
    return np.abs(a) + lo if lo is not None else a


def graph(nodes, weights, outputs=()):
    tensors = {k: TensorInfo(k, str(v.dtype), tuple(v.shape)) for k, v in weights.items()}
    return Graph(nodes, list(outputs), {}, tensors)


def inp(name, shape):
    return Node(name, "Input", [], {"shape": list(shape)})


CONV_ATTRS = {"kernel_shape": [3, 3], "pads": [1, 0, 1, 2], "strides": [2, 1], "group": 2}


@pytest.mark.parametrize("bound", [["weight"], ["weight", "bias"], ["bias"]])
def test_conv_bound_weights_match_stored(bound):
    w, b, x = rand(4, 2, 3, 3), rand(4), rand(1, 4, 7, 6)
    stored = graph([inp("x", x.shape), Node("c", "Conv", ["x"], dict(CONV_ATTRS))],
                   {"c.weight": w, "c.bias": b})
    want = registry.run_reference(stored, {"c.weight": w, "c.bias": b}, {"x": x})["c"]
    values = {"weight": w, "bias": b}
    nodes = [inp("x", x.shape)] + [inp(f"in_{r}", values[r].shape) for r in bound]
    attrs = dict(CONV_ATTRS)
    if bound == ["bias"]:
        attrs["weight_inputs"] = ["bias"]
    nodes.append(Node("c", "Conv", ["x"] + [f"in_{r}" for r in bound], attrs))
    ws = {f"c.{r}": v for r, v in values.items() if r not in bound}
    g = graph(nodes, ws)
    assert registry.validate(g) == []
    assert registry.bound_inputs(g.node("c")) == {r: f"in_{r}" for r in bound}
    assert registry.data_inputs(g.node("c")) == ["x"]
    shapes = registry.infer_shapes(g)
    assert shapes["c"] == want.shape
    got = registry.run_reference(g, ws, {"x": x, **{f"in_{r}": values[r] for r in bound}})
    np.testing.assert_allclose(got["c"], want, rtol=1e-6, atol=1e-6)


def test_validation_of_bound_weights():
    w = rand(4, 3, 3, 3)
    nodes = [inp("x", (1, 3, 5, 5)), inp("w", w.shape),
             Node("c", "Conv", ["x", "w"], {"kernel_shape": [3, 3]})]
    both = graph(nodes, {"c.weight": w})
    assert ("c", "weight 'weight' is given both as a tensor and as an input") in \
        registry.validate(both)
    too_many = graph([inp("x", (1, 3, 5, 5)), inp("w", w.shape), inp("b", (4,)),
                      inp("z", (4,)), Node("c", "Conv", ["x", "w", "b", "z"],
                                           {"kernel_shape": [3, 3]})], {})
    assert any("up to 3" in p for _, p in registry.validate(too_many))
    named = graph([inp("x", (1, 3, 5, 5)), inp("w", w.shape),
                   Node("c", "Conv", ["x", "w"], {"kernel_shape": [3, 3],
                                                  "weight_inputs": ["slope", "weight"]})], {})
    probs = [p for _, p in registry.validate(named)]
    assert any("cannot be given as inputs" in p for p in probs)
    assert any("names 2 roles for 1 extra inputs" in p for p in probs)
    missing = graph([inp("x", (1, 3, 5, 5)), inp("b", (4,)),
                     Node("c", "Conv", ["x", "b"], {"kernel_shape": [3, 3],
                                                    "weight_inputs": ["bias"]})], {})
    assert ("c", "weight 'weight' is missing") in registry.validate(missing)
    # ops without weight inputs keep their exact input count
    relu = graph([inp("x", (2,)), inp("y", (2,)), Node("r", "Relu", ["x", "y"])], {})
    assert ("r", "needs 1 inputs, has 2") in registry.validate(relu)
    # the structural attribute is no default that ops see
    assert "weight_inputs" not in registry.get("Conv").with_defaults({})


def test_batch_norm_norms_prelu_bound():
    x = rand(2, 4, 3, 5)
    cases = {
        "BatchNorm": ({"epsilon": 1e-3}, {"scale": rand(4), "bias": rand(4), "mean": rand(4),
                                          "var": rand(4, lo=0.5)}),
        "InstanceNormalization": ({}, {"scale": rand(4), "bias": rand(4)}),
        "GroupNormalization": ({"num_groups": 2}, {"scale": rand(4), "bias": rand(4)}),
        "LayerNormalization": ({"axis": 2}, {"scale": rand(3, 5), "bias": rand(5)}),
        "PRelu": ({}, {"slope": rand(4)}),
    }
    for op, (attrs, ws) in cases.items():
        stored = graph([inp("x", x.shape), Node("n", op, ["x"], dict(attrs))],
                       {f"n.{k}": v for k, v in ws.items()})
        want = registry.run_reference(stored, {f"n.{k}": v for k, v in ws.items()},
                                      {"x": x})["n"]
        order = registry.get(op).weight_inputs
        roles = [r for r in order if r in ws]
        g = graph([inp("x", x.shape)] + [inp(r, ws[r].shape) for r in roles]
                  + [Node("n", op, ["x", *roles], dict(attrs))], {})
        assert registry.validate(g) == [], op
        assert registry.infer_shapes(g)["n"] == x.shape
        got = registry.run_reference(g, {}, {"x": x, **ws})["n"]
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6, err_msg=op)


def test_prelu_broadcast_slope():
    x, slope = rand(3, 4, 5), rand(1, 1, 5)
    g = graph([inp("x", x.shape), inp("s", slope.shape), Node("p", "PRelu", ["x", "s"])], {})
    assert registry.validate(g) == []
    got = registry.run_reference(g, {}, {"x": x, "s": slope})["p"]
    want = torch.where(torch.from_numpy(x) >= 0, torch.from_numpy(x),
                       torch.from_numpy(x) * torch.from_numpy(slope)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-6)
    with pytest.raises(ValueError, match="broadcast"):
        registry.get("PRelu").infer_fn({}, [(3, 4, 5)], {"slope": (2, 5)})


@pytest.mark.parametrize("bounds", [("min", "max"), ("max",), ("min",)])
def test_clip_bound_min_max(bounds):
    x = rand(3, 4)
    values = {"min": np.array(-0.3, np.float32), "max": np.array(0.5, np.float32)}
    attrs = {} if bounds == ("min", "max") else {"weight_inputs": list(bounds)}
    if bounds == ("min",):
        attrs = {"max": 0.2}
    g = graph([inp("x", x.shape)] + [inp(r, ()) for r in bounds]
              + [Node("c", "Clip", ["x", *bounds], attrs)], {})
    assert registry.validate(g) == []
    got = registry.run_reference(g, {}, {"x": x, **{r: values[r] for r in bounds}})["c"]
    lo = values["min"] if "min" in bounds else None
    hi = values["max"] if "max" in bounds else 0.2
    want = torch.clamp(torch.from_numpy(x), None if lo is None else float(lo), float(hi))
    np.testing.assert_allclose(got, want.numpy())
    with pytest.raises(ValueError, match="one value"):
        registry.get("Clip").infer_fn({}, [(3,)], {"min": (2,)})


@pytest.mark.parametrize("axis", [1, -1, 0])
def test_layer_norm_mean_inv_std_dev(axis):
    x, scale = rand(2, 3, 4), rand(4)
    g = graph([inp("x", x.shape), Node("ln", "LayerNormalization", ["x"],
                                       {"axis": axis, "epsilon": 1e-3, "num_outputs": 3})],
              {"ln.scale": scale}, outputs=["ln", "ln:1", "ln:2"])
    assert registry.validate(g) == []
    shapes = registry.infer_shapes(g)
    a = axis % 3
    stat = x.shape[:a] + (1,) * (3 - a)
    assert shapes["ln:1"] == stat and shapes["ln:2"] == stat
    got = registry.run_reference(g, {"ln.scale": scale}, {"x": x})
    t = torch.from_numpy(x).double()
    dims = tuple(range(a, 3))
    mean = t.mean(dim=dims, keepdim=True)
    inv = torch.rsqrt(t.var(dim=dims, unbiased=False, keepdim=True) + 1e-3)
    np.testing.assert_allclose(got["ln:1"], mean.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got["ln:2"], inv.numpy(), rtol=1e-5)
    assert got["ln:1"].dtype == np.float32
    one = graph([inp("x", x.shape), Node("ln", "LayerNormalization", ["x"], {"axis": axis})],
                {"ln.scale": scale})
    assert registry.get("LayerNormalization").num_outputs({}) == 1
    assert len(registry.infer_shapes(one)) == 2  # x, ln: one output by default
