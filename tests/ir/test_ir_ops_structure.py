"""Structure, reduction and normalization ops (MatMul .. SpaceToDepth): reference against
torch (an independent implementation), infer() against the reference output shapes, attribute
validation, and ONNX semantics (onnx.reference) where torch has no direct equivalent."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _ir_check import close, t64

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node

R = np.random.default_rng(20240611)
INT_MAX = 2**63 - 1


def randn(*shape):
    return R.standard_normal(shape).astype(np.float32)


def run(op: str, attrs: dict, inputs: list, weights: dict | None = None) -> list[np.ndarray]:
    """Like _ir_check.run_op, keeping integer inputs (Gather indices) and allowing integer
    outputs (ArgMax/ArgMin)."""
    weights = {k: np.asarray(v, dtype=np.float32) for k, v in (weights or {}).items()}
    inputs = [np.asarray(x) if np.asarray(x).dtype.kind in "iu"
              else np.asarray(x, dtype=np.float32) for x in inputs]
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
        assert o.dtype == (np.int64 if op in ("ArgMax", "ArgMin") else np.float32), o.dtype
        assert o.shape == tuple(s), (o.shape, s)
    return outs


def infer(op: str, attrs: dict, shapes: list, weights: dict | None = None):
    schema = registry.get(op)
    return schema.infer_fn(schema.with_defaults(attrs), shapes, weights or {})


def problems(op: str, attrs: dict, n_inputs: int = 1, weights=()) -> list[str]:
    return registry.get(op).validate(Node("n", op, [f"x{i}" for i in range(n_inputs)], attrs),
                                     list(weights))


# ----------------------------------------------------------------------------- MatMul, Gemm
@pytest.mark.parametrize("a,b", [((3, 4), (4, 5)), ((2, 3, 4), (4, 5)), ((4,), (4, 5)),
                                 ((3, 4), (4,)), ((4,), (4,)), ((2, 1, 3, 4), (5, 4, 2)),
                                 ((1, 2, 3), (3, 3, 1))])
def test_matmul(a, b):
    x, y = randn(*a), randn(*b)
    (out,) = run("MatMul", {}, [x, y])
    close(out, torch.matmul(t64(x), t64(y)))


def test_matmul_rejects():
    with pytest.raises(ValueError, match="inner"):
        infer("MatMul", {}, [(3, 4), (5, 6)])
    with pytest.raises(ValueError, match="broadcast"):
        infer("MatMul", {}, [(2, 3, 4), (3, 4, 5)])
    with pytest.raises(ValueError, match="rank"):
        infer("MatMul", {}, [(), (3,)])


GEMM_CASES = {
    "plain": ({}, (3, 4), (4, 5), None),
    "bias_row": ({}, (3, 4), (4, 5), (5,)),
    "bias_col": ({"beta": 0.5}, (3, 4), (4, 5), (3, 1)),
    "bias_full_transB": ({"transB": True, "alpha": 2.0}, (3, 4), (5, 4), (3, 5)),
    "transA_transB_scalar_c": ({"transA": True, "transB": True, "alpha": 0.25,
                                "beta": -1.0}, (4, 3), (5, 4), (1,)),
}


@pytest.mark.parametrize("case", GEMM_CASES.values(), ids=GEMM_CASES.keys())
def test_gemm(case):
    attrs, sa, sb, sc = case
    a, b = randn(*sa), randn(*sb)
    ins = [a, b] + ([randn(*sc)] if sc else [])
    (y,) = run("Gemm", attrs, ins)
    ta, tb = t64(a), t64(b)
    ta = ta.T if attrs.get("transA") else ta
    tb = tb.T if attrs.get("transB") else tb
    ref = attrs.get("alpha", 1.0) * ta @ tb
    if sc:
        ref = ref + attrs.get("beta", 1.0) * t64(ins[2])
    close(y, ref)


def test_gemm_rejects():
    with pytest.raises(ValueError, match="inner"):
        infer("Gemm", {}, [(3, 4), (5, 4)])
    with pytest.raises(ValueError, match="broadcast"):
        infer("Gemm", {}, [(3, 4), (4, 5), (4,)])
    with pytest.raises(ValueError, match="2-D"):
        infer("Gemm", {}, [(2, 3, 4), (4, 5)])
    with pytest.raises(ValueError, match="2 or 3"):
        infer("Gemm", {}, [(3, 4), (4, 5), (5,), (5,)])
    assert problems("Gemm", {}, n_inputs=1)
    assert problems("Gemm", {"transA": 1}, n_inputs=2)


# ----------------------------------------------------------------------------- Transpose etc.
@pytest.mark.parametrize("shape,perm", [((2, 3, 4), [0, 2, 1]), ((2, 3, 4, 5), [0, 2, 3, 1]),
                                        ((2, 3, 4), []), ((5,), [])])
def test_transpose(shape, perm):
    x = randn(*shape)
    (y,) = run("Transpose", {"perm": perm} if perm else {}, [x])
    close(y, t64(x).permute(perm or list(range(len(shape)))[::-1]))


def test_transpose_rejects_bad_perm():
    with pytest.raises(ValueError, match="permutation"):
        infer("Transpose", {"perm": [0, 0, 1]}, [(2, 3, 4)])
    with pytest.raises(ValueError, match="permutation"):
        infer("Transpose", {"perm": [1, 0]}, [(2, 3, 4)])


@pytest.mark.parametrize("shape,axes", [((1, 3, 1, 5), [0]), ((1, 3, 1, 5), [0, -2]),
                                        ((1, 3, 1, 5), []), ((2, 3), [])])
def test_squeeze(shape, axes):
    x = randn(*shape)
    (y,) = run("Squeeze", {"axes": axes}, [x])
    ref = t64(x)
    for a in sorted((a % len(shape) for a in axes), reverse=True) if axes else ():
        ref = ref.squeeze(a)
    close(y, ref if axes else t64(x).squeeze())


def test_squeeze_rejects():
    with pytest.raises(ValueError, match="size is not 1"):
        infer("Squeeze", {"axes": [1]}, [(1, 3, 1)])
    with pytest.raises(ValueError, match="out of range"):
        infer("Squeeze", {"axes": [3]}, [(1, 3, 1)])
    with pytest.raises(ValueError, match="repeat"):
        infer("Squeeze", {"axes": [0, -3]}, [(1, 3, 1)])


@pytest.mark.parametrize("shape,axes,expected", [
    ((3, 4), [0], (1, 3, 4)), ((3, 4), [-1], (3, 4, 1)), ((3, 4), [3, 0], (1, 3, 4, 1)),
    ((3, 4), [1, 2], (3, 1, 1, 4)), ((), [0], (1,))])
def test_unsqueeze(shape, axes, expected):
    x = randn(*shape)
    (y,) = run("Unsqueeze", {"axes": axes}, [x])
    assert y.shape == expected
    ref = t64(x)
    for a in sorted(a % len(expected) for a in axes):
        ref = ref.unsqueeze(a)
    close(y, ref)


def test_unsqueeze_rejects():
    assert any("required" in p for p in problems("Unsqueeze", {}))
    with pytest.raises(ValueError, match="empty"):
        infer("Unsqueeze", {"axes": []}, [(3,)])
    with pytest.raises(ValueError, match="out of range"):
        infer("Unsqueeze", {"axes": [3]}, [(3,)])
    with pytest.raises(ValueError, match="repeat"):
        infer("Unsqueeze", {"axes": [0, -3]}, [(3,)])


# ----------------------------------------------------------------------------- Slice
def _torch_slice(x: torch.Tensor, attrs) -> torch.Tensor:
    """An independent ONNX Slice: python's range() clamping (same as ONNX for these cases)
    and index_select, so negative steps need no special casing."""
    n = len(attrs["starts"])
    axes = attrs.get("axes") or list(range(n))
    steps = attrs.get("steps") or [1] * n
    for a, s, e, st in zip(axes, attrs["starts"], attrs["ends"], steps, strict=True):
        d = x.shape[a]
        idx = list(range(d))[slice(s, e if abs(e) < 2**62 else (None if (e > 0) == (st > 0)
                                                                  else (-d - 1 if st < 0
                                                                        else 0)), st)]
        x = torch.index_select(x, a, torch.tensor(idx, dtype=torch.long))
    return x


SLICE_CASES = {
    "basic": {"starts": [1], "ends": [3]},
    "axes_steps": {"starts": [0, 1], "ends": [4, 6], "axes": [1, 3], "steps": [2, 2]},
    "negative_starts_ends": {"starts": [-3], "ends": [-1], "axes": [2]},
    "int_max_end": {"starts": [1], "ends": [INT_MAX], "axes": [-1]},
    "clamped_start": {"starts": [-100], "ends": [100], "axes": [1]},
    "negative_step": {"starts": [-1], "ends": [-INT_MAX], "axes": [3], "steps": [-1]},
    "negative_step2": {"starts": [4], "ends": [0], "axes": [3], "steps": [-2]},
    "negative_step_big_start": {"starts": [100], "ends": [1], "axes": [2], "steps": [-3]},
    "empty": {"starts": [3], "ends": [1], "axes": [1]},
    "mixed": {"starts": [0, -1, 1], "ends": [1, -4, 100], "axes": [0, 1, 3],
              "steps": [1, -1, 3]},
}


@pytest.mark.parametrize("attrs", SLICE_CASES.values(), ids=SLICE_CASES.keys())
def test_slice(attrs):
    x = randn(2, 5, 4, 6)
    (y,) = run("Slice", attrs, [x])
    close(y, _torch_slice(t64(x), attrs))


def test_slice_onnx_examples():
    """The ONNX operator doc's examples."""
    data = np.array([[1, 2, 3, 4], [5, 6, 7, 8]], np.float32)
    (y,) = run("Slice", {"starts": [1, 0], "ends": [2, 3], "axes": [0, 1], "steps": [1, 2]},
               [data])
    np.testing.assert_array_equal(y, [[5, 7]])
    (y,) = run("Slice", {"starts": [0, 1], "ends": [-1, 1000]}, [data])
    np.testing.assert_array_equal(y, [[2, 3, 4]])
    (y,) = run("Slice", {"starts": [1, -1], "ends": [0, -INT_MAX], "steps": [-1, -1]},
               [data])
    np.testing.assert_array_equal(y, [[8, 7, 6, 5]])


def test_slice_rejects():
    with pytest.raises(ValueError, match="0"):
        infer("Slice", {"starts": [0], "ends": [1], "steps": [0]}, [(3,)])
    with pytest.raises(ValueError, match="length"):
        infer("Slice", {"starts": [0, 1], "ends": [1]}, [(3, 3)])
    with pytest.raises(ValueError, match="out of range"):
        infer("Slice", {"starts": [0], "ends": [1], "axes": [2]}, [(3, 3)])
    assert any("required" in p for p in problems("Slice", {"starts": [0]}))


# ----------------------------------------------------------------------------- Gather
@pytest.mark.parametrize("axis,indices", [
    (0, [1, 0, 1]), (1, [[0, 2], [-1, 1]]), (-1, [3, -4]), (1, 2), (2, [[[0]]])])
def test_gather(axis, indices):
    x = randn(2, 3, 4)
    idx = np.array(indices, np.int64)
    (y,) = run("Gather", {"axis": axis}, [x, idx])
    a = axis % 3
    flat = torch.from_numpy(np.where(idx < 0, idx + x.shape[a], idx).reshape(-1))
    ref = torch.index_select(t64(x), a, flat).reshape(x.shape[:a] + idx.shape + x.shape[a + 1:])
    close(y, ref)


def test_gather_rejects():
    with pytest.raises(ValueError, match="out of range"):
        run("Gather", {"axis": 1}, [randn(2, 3), np.array([3], np.int64)])
    with pytest.raises(ValueError, match="integers"):
        registry.get("Gather").reference_fn({"axis": 0}, [randn(3), randn(2)], {})
    with pytest.raises(ValueError, match="out of range"):
        infer("Gather", {"axis": 2}, [(2, 3), (1,)])


# ----------------------------------------------------------------------------- Pad
PAD_CASES = {
    "constant": ({"pads": [0, 0, 1, 2, 0, 0, 3, 0]}, "constant", 0.0),
    "constant_value_all_dims": ({"pads": [1, 0, 1, 2, 0, 2, 0, 1], "value": 1.5},
                                "constant", 1.5),
    "crop": ({"pads": [0, 0, -1, 2, 0, 0, 1, -2]}, "constant", 0.0),
    "reflect": ({"pads": [0, 0, 2, 1, 0, 0, 1, 3], "mode": "reflect"}, "reflect", 0.0),
    "edge": ({"pads": [0, 0, 3, 0, 0, 0, 1, 4], "mode": "edge"}, "replicate", 0.0),
    "wrap": ({"pads": [0, 0, 2, 1, 0, 0, 1, 3], "mode": "wrap"}, "circular", 0.0),
}


@pytest.mark.parametrize("case", PAD_CASES.values(), ids=PAD_CASES.keys())
def test_pad(case):
    attrs, mode, value = case
    x = randn(2, 3, 5, 6)
    (y,) = run("Pad", attrs, [x])
    p = attrs["pads"]
    r = x.ndim
    tp = [v for i in range(r - 1, -1, -1) for v in (p[i], p[i + r])]
    if mode != "constant":
        tp = tp[:4]
    close(y, F.pad(t64(x), tp, mode=mode, **({"value": value} if mode == "constant" else {})))


def test_pad_onnx_order_example():
    """The ONNX doc's example: pads [0, 2, 0, 0] on a 3x2 input adds two columns in front."""
    x = np.array([[1.0, 1.2], [2.3, 3.4], [4.5, 5.7]], np.float32)
    (y,) = run("Pad", {"pads": [0, 2, 0, 0], "mode": "reflect"}, [x])
    np.testing.assert_allclose(y, [[1.0, 1.2, 1.0, 1.2], [2.3, 3.4, 2.3, 3.4],
                                   [4.5, 5.7, 4.5, 5.7]])
    (y,) = run("Pad", {"pads": [0, 2, 0, 0], "mode": "edge"}, [x])
    np.testing.assert_allclose(y[:, :2], [[1.0, 1.0], [2.3, 2.3], [4.5, 4.5]])


def test_pad_rejects():
    with pytest.raises(ValueError, match="2 \\* rank"):
        infer("Pad", {"pads": [1, 1]}, [(2, 3, 4)])
    with pytest.raises(ValueError, match="crop"):
        infer("Pad", {"pads": [-3, 0]}, [(2,)])
    assert any("must be one of" in p for p in problems("Pad", {"pads": [0, 0],
                                                               "mode": "symmetric"}))


# ----------------------------------------------------------------------------- Reduce*
def _prod(x, dims, keep):
    for d in sorted(dims, reverse=True):
        x = torch.prod(x, d, keepdim=keep)
    return x


def _torch_reduce(op, x, dims, keep):
    dims = list(dims)
    return {
        "ReduceSum": lambda: torch.sum(x, dims, keepdim=keep),
        "ReduceMean": lambda: torch.mean(x, dims, keepdim=keep),
        "ReduceMax": lambda: torch.amax(x, dims, keepdim=keep),
        "ReduceMin": lambda: torch.amin(x, dims, keepdim=keep),
        "ReduceProd": lambda: _prod(x, dims, keep),
        "ReduceL1": lambda: torch.linalg.vector_norm(x, 1, dims, keepdim=keep),
        "ReduceL2": lambda: torch.linalg.vector_norm(x, 2, dims, keepdim=keep),
        "ReduceLogSum": lambda: torch.log(torch.sum(x, dims, keepdim=keep)),
        "ReduceLogSumExp": lambda: torch.logsumexp(x, dims, keepdim=keep),
        "ReduceSumSquare": lambda: torch.sum(x * x, dims, keepdim=keep),
    }[op]()


REDUCE_OPS = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
              "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]


@pytest.mark.parametrize("op", REDUCE_OPS)
@pytest.mark.parametrize("axes,keep", [([1], True), ([2, -1], False), ([], True), ([], False),
                                       ([0, 2], True)])
def test_reduce(op, axes, keep):
    x = randn(2, 3, 4, 5)
    if op == "ReduceLogSum":
        x = np.abs(x) + 0.1
    if op == "ReduceProd":
        x = (np.abs(x) + 0.5).astype(np.float32)
    (y,) = run(op, {"axes": axes, "keepdims": keep}, [x])
    dims = sorted(a % 4 for a in axes) if axes else [0, 1, 2, 3]
    close(y, _torch_reduce(op, t64(x), dims, keep))


@pytest.mark.parametrize("op", REDUCE_OPS)
def test_reduce_noop_with_empty_axes(op):
    x = randn(2, 3)
    (y,) = run(op, {"noop_with_empty_axes": True}, [x])
    np.testing.assert_array_equal(y, x)


def test_reduce_logsumexp_stable():
    x = np.array([[1000.0, 1000.0], [-1000.0, -1000.0]], np.float32)
    (y,) = run("ReduceLogSumExp", {"axes": [1], "keepdims": False}, [x])
    close(y, torch.logsumexp(t64(x), 1))


def test_reduce_rejects():
    with pytest.raises(ValueError, match="repeat"):
        infer("ReduceSum", {"axes": [1, -2]}, [(2, 3, 4)])
    with pytest.raises(ValueError, match="out of range"):
        infer("ReduceMean", {"axes": [3]}, [(2, 3, 4)])
    assert any("must be bool" in p for p in problems("ReduceMax", {"keepdims": 1}))


# ----------------------------------------------------------------------------- ArgMax, ArgMin
@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize("axis,keep", [(0, True), (1, False), (-1, True)])
def test_arg(op, axis, keep):
    x = randn(3, 4, 5)
    (y,) = run(op, {"axis": axis, "keepdims": keep}, [x])
    fn = torch.argmax if op == "ArgMax" else torch.argmin
    np.testing.assert_array_equal(y, fn(t64(x), dim=axis, keepdim=keep).numpy())


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
def test_arg_ties(op):
    x = np.array([[2.0, 1.0, 2.0, 1.0], [0.0, 0.0, 0.0, 0.0]], np.float32)
    first = [0, 0] if op == "ArgMax" else [1, 0]
    last = [2, 3] if op == "ArgMax" else [3, 3]
    (y,) = run(op, {"axis": 1, "keepdims": False}, [x])
    np.testing.assert_array_equal(y, first)
    (y,) = run(op, {"axis": 1, "keepdims": True, "select_last_index": True}, [x])
    np.testing.assert_array_equal(y, np.array(last).reshape(2, 1))


# ----------------------------------------------------------------------------- LogSoftmax, Hardmax
@pytest.mark.parametrize("shape,axis", [((2, 5), 1), ((2, 3, 4), -1), ((2, 3, 4), 0)])
def test_log_softmax(shape, axis):
    x = randn(*shape) * 10
    (y,) = run("LogSoftmax", {"axis": axis}, [x])
    close(y, F.log_softmax(t64(x), dim=axis))


@pytest.mark.parametrize("shape,axis", [((2, 5), 1), ((2, 3, 4), -1), ((2, 3, 4), 0)])
def test_hardmax(shape, axis):
    x = randn(*shape)
    (y,) = run("Hardmax", {"axis": axis}, [x])
    ref = F.one_hot(torch.argmax(t64(x), dim=axis), shape[axis]).movedim(-1, axis)
    np.testing.assert_array_equal(y, ref.numpy().astype(np.float32))


def test_hardmax_ties_take_first():
    (y,) = run("Hardmax", {"axis": 1}, [np.array([[3, 3, 1], [0, 0, 0]], np.float32)])
    np.testing.assert_array_equal(y, [[1, 0, 0], [1, 0, 0]])


def test_axis_out_of_range():
    for op in ("LogSoftmax", "Hardmax"):
        with pytest.raises(ValueError, match="out of range"):
            infer(op, {"axis": 2}, [(2, 3)])
    with pytest.raises(ValueError, match="out of range"):
        infer("ArgMax", {"axis": -3}, [(2, 3)])


# ----------------------------------------------------------------------------- normalization
@pytest.mark.parametrize("shape", [(2, 3, 5), (2, 3, 4, 5), (1, 2, 3, 4, 2)])
def test_instance_norm(shape):
    x, s, b = randn(*shape) * 3 + 1, randn(shape[1]), randn(shape[1])
    (y,) = run("InstanceNormalization", {"epsilon": 1e-3}, [x], {"scale": s, "bias": b})
    close(y, F.instance_norm(t64(x), weight=t64(s), bias=t64(b), eps=1e-3))


def test_instance_norm_rejects():
    with pytest.raises(ValueError, match="N, C, D1"):
        infer("InstanceNormalization", {}, [(2, 3)], {"scale": (3,), "bias": (3,)})
    with pytest.raises(ValueError, match="scale"):
        infer("InstanceNormalization", {}, [(2, 3, 4)], {"scale": (4,), "bias": (3,)})
    assert any("'bias' is missing" in p for p in problems("InstanceNormalization", {},
                                                          weights=["scale"]))


@pytest.mark.parametrize("shape,axis,wshape,bias", [
    ((2, 3, 8), -1, (8,), True), ((2, 3, 4, 5), 2, (4, 5), True), ((2, 3, 4), 1, (3, 4), False),
    ((2, 6), 0, (2, 6), True), ((2, 3, 4), -2, (1, 4), True)])
def test_layer_norm(shape, axis, wshape, bias):
    x = randn(*shape) * 2 + 1
    ws = {"scale": randn(*wshape)} | ({"bias": randn(*wshape)} if bias else {})
    (y,) = run("LayerNormalization", {"axis": axis, "epsilon": 1e-4}, [x], ws)
    norm = shape[axis % len(shape):]
    w = t64(np.broadcast_to(ws["scale"], norm))
    b = t64(np.broadcast_to(ws["bias"], norm)) if bias else None
    close(y, F.layer_norm(t64(x), norm, w, b, eps=1e-4))


def test_layer_norm_rejects():
    with pytest.raises(ValueError, match="broadcast"):
        infer("LayerNormalization", {}, [(2, 3, 4)], {"scale": (3,)})
    with pytest.raises(ValueError, match="broadcast"):
        infer("LayerNormalization", {"axis": 2}, [(2, 3, 4)], {"scale": (3, 4)})
    assert any("'scale' is missing" in p for p in problems("LayerNormalization", {}))


@pytest.mark.parametrize("shape,groups", [((2, 6, 4, 4), 3), ((2, 4, 5), 4), ((1, 6, 3, 3), 1),
                                          ((3, 8), 2)])
def test_group_norm(shape, groups):
    x, s, b = randn(*shape) * 2 - 1, randn(shape[1]), randn(shape[1])
    (y,) = run("GroupNormalization", {"num_groups": groups}, [x], {"scale": s, "bias": b})
    close(y, F.group_norm(t64(x), groups, t64(s), t64(b), eps=1e-5))


def test_group_norm_rejects():
    with pytest.raises(ValueError, match="divide"):
        infer("GroupNormalization", {"num_groups": 4}, [(2, 6, 3, 3)])
    assert any("'num_groups' is required" in p
               for p in problems("GroupNormalization", {}, weights=["scale", "bias"]))


# ----------------------------------------------------------------------------- Expand, Tile
@pytest.mark.parametrize("shape,target", [((3, 1), (2, 3, 4)), ((1, 3, 1, 1), (2, 3, 4, 5)),
                                          ((3, 4), (1, 1)), ((2, 1, 4), (3, 1))])
def test_expand(shape, target):
    x = randn(*shape)
    (y,) = run("Expand", {"shape": list(target)}, [x])
    out = torch.broadcast_shapes(shape, target)
    close(y, t64(x).expand(out))


def test_expand_rejects():
    with pytest.raises(ValueError, match="broadcast"):
        infer("Expand", {"shape": [2, 4]}, [(3, 1)])


@pytest.mark.parametrize("shape,repeats", [((2, 3), [1, 2]), ((2, 3, 4), [3, 1, 2]),
                                           ((2, 1), [0, 3])])
def test_tile(shape, repeats):
    x = randn(*shape)
    (y,) = run("Tile", {"repeats": repeats}, [x])
    close(y, torch.tile(t64(x), repeats))


def test_tile_rejects():
    with pytest.raises(ValueError, match="repeats"):
        infer("Tile", {"repeats": [2]}, [(2, 3)])
    with pytest.raises(ValueError, match="repeats"):
        infer("Tile", {"repeats": [2, -1]}, [(2, 3)])


# ----------------------------------------------------------------------------- DepthToSpace
def test_depth_to_space_crd_is_pixel_shuffle():
    x = randn(2, 12, 3, 4)
    (y,) = run("DepthToSpace", {"blocksize": 2, "mode": "CRD"}, [x])
    close(y, F.pixel_shuffle(t64(x), 2))


def test_depth_to_space_dcr_loops():
    """DCR: y[n, c, h*b + i, w*b + j] = x[n, (i*b + j)*C' + c, h, w]."""
    b, x = 2, randn(1, 8, 2, 3)
    (y,) = run("DepthToSpace", {"blocksize": b}, [x])
    c2 = 8 // (b * b)
    ref = np.zeros((1, c2, 4, 6), np.float32)
    for c in range(c2):
        for h in range(2):
            for w in range(3):
                for i in range(b):
                    for j in range(b):
                        ref[0, c, h * b + i, w * b + j] = x[0, (i * b + j) * c2 + c, h, w]
    np.testing.assert_array_equal(y, ref)


def test_space_to_depth_inverts_dcr():
    x = randn(2, 3, 6, 4)
    (z,) = run("SpaceToDepth", {"blocksize": 2}, [x])
    assert z.shape == (2, 12, 3, 2)
    (back,) = run("DepthToSpace", {"blocksize": 2, "mode": "DCR"}, [z])
    np.testing.assert_array_equal(back, x)
    # PyTorch's pixel_unshuffle orders channels (C, b, b): the same values, permuted
    ref = F.pixel_unshuffle(t64(x), 2).reshape(2, 3, 4, 3, 2).transpose(1, 2).reshape(2, 12, 3,
                                                                                       2)
    close(z, ref)


def test_depth_space_reject():
    with pytest.raises(ValueError, match="divisible"):
        infer("DepthToSpace", {"blocksize": 2}, [(1, 6, 2, 2)])
    with pytest.raises(ValueError, match="divisible"):
        infer("SpaceToDepth", {"blocksize": 2}, [(1, 6, 3, 2)])
    with pytest.raises(ValueError, match="4-D"):
        infer("SpaceToDepth", {"blocksize": 2}, [(1, 6, 2)])
    assert any("must be one of" in p for p in problems("DepthToSpace", {"blocksize": 2,
                                                                        "mode": "XYZ"}))


# ----------------------------------------------------------------------------- ONNX semantics
ONNX_CASES = {
    # id: (ONNX op, IR op, IR attrs, ONNX attrs, constant inputs after X (name, array))
    "slice": ("Slice", "Slice", {"starts": [-1, 1], "ends": [-INT_MAX, 100], "axes": [1, 3],
                                 "steps": [-2, 2]}, {},
              [("starts", np.array([-1, 1])), ("ends", np.array([-INT_MAX, 100])),
               ("axes", np.array([1, 3])), ("steps", np.array([-2, 2]))]),
    "pad_reflect": ("Pad", "Pad", {"pads": [0, 1, 2, 0, 0, 2, 1, 1], "mode": "reflect"},
                    {"mode": "reflect"}, [("pads", np.array([0, 1, 2, 0, 0, 2, 1, 1]))]),
    "pad_wrap": ("Pad", "Pad", {"pads": [0, 0, 2, 1, 0, 0, 1, 3], "mode": "wrap"},
                 {"mode": "wrap"}, [("pads", np.array([0, 0, 2, 1, 0, 0, 1, 3]))]),
    "reduce_l2": ("ReduceL2", "ReduceL2", {"axes": [1, 3], "keepdims": False},
                  {"keepdims": 0}, [("axes", np.array([1, 3]))]),
    "reduce_lse_all": ("ReduceLogSumExp", "ReduceLogSumExp", {}, {}, []),
    "reduce_noop": ("ReduceSum", "ReduceSum", {"noop_with_empty_axes": True},
                    {"noop_with_empty_axes": 1}, []),
    "argmin_last": ("ArgMin", "ArgMin", {"axis": 2, "select_last_index": True},
                    {"axis": 2, "select_last_index": 1}, []),
    "hardmax": ("Hardmax", "Hardmax", {"axis": -1}, {"axis": -1}, []),
    "log_softmax": ("LogSoftmax", "LogSoftmax", {"axis": 2}, {"axis": 2}, []),
    "depth_to_space_dcr": ("DepthToSpace", "DepthToSpace", {"blocksize": 2},
                           {"blocksize": 2}, []),
    "space_to_depth": ("SpaceToDepth", "SpaceToDepth", {"blocksize": 2}, {"blocksize": 2}, []),
    "expand": ("Expand", "Expand", {"shape": [3, 1, 1, 1, 1]}, {},
               [("shape", np.array([3, 1, 1, 1, 1]))]),
    "tile": ("Tile", "Tile", {"repeats": [1, 2, 1, 3]}, {},
             [("repeats", np.array([1, 2, 1, 3]))]),
    "transpose": ("Transpose", "Transpose", {}, {}, []),
    "squeeze_unsqueeze": ("Unsqueeze", "Unsqueeze", {"axes": [-1, 1]}, {},
                          [("axes", np.array([-1, 1]))]),
}


@pytest.mark.parametrize("case", ONNX_CASES.values(), ids=ONNX_CASES.keys())
def test_matches_onnx_reference(case):
    importlib.import_module("onnx")
    from onnx import helper, numpy_helper
    from onnx.reference import ReferenceEvaluator

    onnx_op, ir_op, ir_attrs, onnx_attrs, consts = case
    x = np.round(randn(2, 4, 4, 6) * 4) / 4  # ties for the arg/hard-max cases
    inits = [numpy_helper.from_array(v.astype(np.int64), name) for name, v in consts]
    node = helper.make_node(onnx_op, ["X"] + [n for n, _ in consts], ["Y"], **onnx_attrs)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", 1, x.shape)],
                              [helper.make_tensor_value_info("Y", 0, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    (expected,) = ReferenceEvaluator(model).run(None, {"X": x})
    (y,) = run(ir_op, ir_attrs, [x])
    assert y.shape == expected.shape and y.dtype == expected.dtype
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "wrap"])
def test_pad_negative_matches_onnxruntime(mode):
    """Negative pads crop first (onnx.reference handles them in constant mode only)."""
    ort = importlib.import_module("onnxruntime")
    from onnx import helper, numpy_helper

    x = randn(2, 4, 4, 6)
    pads = [0, 0, -1, 2, 1, 0, 1, -2]
    node = helper.make_node("Pad", ["X", "pads"], ["Y"], mode=mode)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", 1, x.shape)],
                              [helper.make_tensor_value_info("Y", 1, None)],
                              [numpy_helper.from_array(np.array(pads, np.int64), "pads")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (expected,) = sess.run(None, {"X": x})
    (y,) = run("Pad", {"pads": pads, "mode": mode}, [x])
    np.testing.assert_array_equal(y, expected)
