"""Pool in 1-D and 3-D and with dilations, LpPool, LpNormalization, MeanVarianceNormalization,
Swish, SwiGLU and Mod: reference implementations against torch (and against ONNX's own
reference where torch has no equivalent), shape inference, and 2-D Pool graphs unchanged."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from tests.ir._ir_check import close, run_op, t64

R = np.random.default_rng(31)


def randn(*shape) -> np.ndarray:
    return R.standard_normal(shape).astype(np.float32)


MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}

# shape, attrs (symmetric pads of at most half the kernel: torch's own rules)
NATIVE = {
    "1d": ((2, 3, 11), {"kernel_shape": [3], "strides": [2], "pads": [1, 1]}),
    "1d_ceil": ((1, 2, 10), {"kernel_shape": [3], "strides": [2], "ceil_mode": True}),
    "3d": ((1, 2, 6, 7, 5), {"kernel_shape": [2, 3, 2], "strides": [2, 1, 2],
                             "pads": [1, 1, 0, 1, 1, 0]}),
    "3d_ceil": ((1, 2, 7, 6, 5), {"kernel_shape": [3, 2, 2], "strides": [2, 2, 2],
                                  "pads": [1, 0, 1, 1, 0, 1], "ceil_mode": True}),
}


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("case", NATIVE.values(), ids=NATIVE.keys())
def test_pool_nd_against_torch(case, mode):
    shape, attrs = case
    n = len(shape) - 2
    x = randn(*shape)
    (y,) = run_op("Pool", {"mode": mode, **attrs}, [x])
    kw = {"kernel_size": attrs["kernel_shape"], "stride": attrs["strides"],
          "padding": attrs.get("pads", [0] * 2 * n)[:n], "ceil_mode": attrs.get("ceil_mode",
                                                                               False)}
    ref = MAX[n](t64(x), **kw) if mode == "max" else AVG[n](t64(x), **kw)
    close(y, ref)


@pytest.mark.parametrize("n,ceil", [(1, False), (2, False), (2, True), (3, True)])
def test_max_pool_dilations_against_torch(n, ceil):
    shape = (1, 2, *[9, 8, 7][:n])
    k, d = [3, 2, 2][:n], [2, 3, 1][:n]
    attrs = {"mode": "max", "kernel_shape": k, "strides": [2] * n, "dilations": d,
             "pads": [1] * 2 * n, "ceil_mode": ceil}
    x = randn(*shape)
    (y,) = run_op("Pool", attrs, [x])
    close(y, MAX[n](t64(x), k, 2, 1, dilation=d, ceil_mode=ceil))


def _onnx_reference(op_type: str, x: np.ndarray, **attrs) -> np.ndarray:
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    node = helper.make_node(op_type, ["x"], ["y"], **attrs)
    return ReferenceEvaluator(node).run(None, {"x": x})[0]


@pytest.mark.parametrize("include", [0, 1])
@pytest.mark.parametrize("ceil", [0, 1])
def test_avg_pool_dilations_against_onnx_reference(include, ceil):
    x = randn(1, 2, 9, 8, 7)
    attrs = {"kernel_shape": [2, 3, 2], "strides": [2, 2, 3], "dilations": [2, 2, 3],
             "pads": [1, 0, 1, 0, 2, 1]}
    (y,) = run_op("Pool", {"mode": "avg", "ceil_mode": bool(ceil),
                           "count_include_pad": bool(include), **attrs}, [x])
    ref = _onnx_reference("AveragePool", x, ceil_mode=ceil, count_include_pad=include, **attrs)
    close(y, ref)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("mode", ["max", "avg"])
def test_global_pool_nd(n, mode):
    x = randn(2, 3, *[5, 4, 3][:n])
    (y,) = run_op("Pool", {"mode": mode, "global_pooling": True}, [x])
    dims = tuple(range(2, 2 + n))
    ref = t64(x).amax(dim=dims, keepdim=True) if mode == "max" else \
        t64(x).mean(dim=dims, keepdim=True)
    close(y, ref)


def test_pool_2d_graphs_unchanged():
    """A Caffe-style 2-D node (no strides / pads / dilations given) still validates and
    means what it did: the defaults are all-1 strides and dilations, no padding."""
    schema = registry.get("Pool")
    node = Node("p", "Pool", ["x"], {"mode": "max", "kernel_shape": [2, 2]})
    assert schema.validate(node) == []
    x = randn(1, 2, 6, 6)
    (y,) = run_op("Pool", {"mode": "max", "kernel_shape": [2, 2]}, [x])
    close(y, F.max_pool2d(t64(x), 2, 1))
    (y,) = run_op("Pool", {"mode": "avg", "kernel_shape": [3, 3], "strides": [1, 1],
                           "pads": [0, 0, 0, 0]}, [x])
    close(y, F.avg_pool2d(t64(x), 3, 1))


@pytest.mark.parametrize("attrs,shape", [
    ({"kernel_shape": [2, 2]}, (1, 1, 4)),                      # kernel for 2 axes, input 1
    ({"kernel_shape": [2], "pads": [1, 1, 1, 1]}, (1, 1, 4)),   # pads for 2 axes
    ({"kernel_shape": [2], "dilations": [1, 1]}, (1, 1, 4)),
    ({"kernel_shape": [2, 2, 2, 2]}, (1, 1, 4, 4, 4, 4)),       # 4 spatial axes
])
def test_pool_geometry_errors(attrs, shape):
    schema = registry.get("Pool")
    with pytest.raises(ValueError):
        schema.infer_fn(schema.with_defaults({"mode": "max", **attrs}), [shape], {})


# ----------------------------------------------------------------------------- LpPool
@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("p", [1, 2, 3])
def test_lp_pool_against_torch(n, p):
    """torch's LPPool raises to p without abs: compare on |x| (the same for any p)."""
    x = np.abs(randn(1, 2, *[8, 7, 6][:n]))
    k = [3, 2, 2][:n]
    (y,) = run_op("LpPool", {"p": p, "kernel_shape": k, "strides": [2] * n}, [x])
    fn = {1: F.lp_pool1d, 2: F.lp_pool2d, 3: F.lp_pool3d}[n]
    close(y, fn(t64(x), p, k[0] if n == 1 else k, 2))


def _onnxruntime(op_type: str, x: np.ndarray, opset: int = 18, **attrs) -> np.ndarray:
    import onnxruntime as ort
    from onnx import TensorProto, helper

    node = helper.make_node(op_type, ["x"], ["y"], **attrs)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                      list(x.shape))],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"x": x})[0]


@pytest.mark.parametrize("attrs", [
    {"kernel_shape": [3, 3], "pads": [1, 0, 2, 1], "strides": [2, 1]},
    {"kernel_shape": [2, 2], "dilations": [2, 2]},
    {"kernel_shape": [3, 2], "strides": [2, 2], "pads": [1, 1, 1, 1], "ceil_mode": 1},
    {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1},
])
def test_lp_pool_against_onnxruntime(attrs):
    """Padding and the region past the padded input add nothing to the sum (onnxruntime;
    ONNX's Python reference scales an average instead, which differs at ceil_mode edges)."""
    x = randn(1, 2, 8, 7)
    (y,) = run_op("LpPool", {"p": 3, **attrs, "ceil_mode": bool(attrs.get("ceil_mode"))},
                  [x])
    close(y, _onnxruntime("LpPool", x, p=3, **attrs))


def test_global_lp_pool():
    x = randn(2, 3, 4, 5)
    (y,) = run_op("LpPool", {"p": 3, "global_pooling": True}, [x])
    close(y, torch.linalg.vector_norm(t64(x), 3, dim=(2, 3), keepdim=True))


# ----------------------------------------------------------------------------- small ops
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("axis", [-1, 1, 0])
def test_lp_normalization(p, axis):
    x = randn(3, 4, 5)
    x[0, :, 0] = 0.0
    (y,) = run_op("LpNormalization", {"p": p, "axis": axis}, [x])
    close(y, F.normalize(t64(x), p=float(p), dim=axis))
    if axis == 1:
        assert np.all(y[0, :, 0] == 0)       # a zero vector stays zero


@pytest.mark.parametrize("axes", [[0, 2, 3], [2, 3], [-1], [1]])
def test_mean_variance_normalization(axes):
    x = randn(2, 3, 4, 5) * 3 + 1
    (y,) = run_op("MeanVarianceNormalization", {"axes": axes}, [x])
    t = t64(x)
    ref = (t - t.mean(dim=axes, keepdim=True)) / \
        (t.var(dim=axes, correction=0, keepdim=True).sqrt() + 1e-9)
    close(y, ref)
    assert registry.get("MeanVarianceNormalization").with_defaults({})["axes"] == [0, 2, 3]


@pytest.mark.parametrize("alpha", [1.0, 0.5, 2.0])
def test_swish_and_swiglu(alpha):
    a, b = randn(2, 7) * 30, randn(2, 7)
    (y,) = run_op("Swish", {"alpha": alpha}, [a])
    close(y, t64(a) * torch.sigmoid(alpha * t64(a)))
    if alpha == 1.0:
        close(y, F.silu(t64(a)))
    (g,) = run_op("SwiGLU", {"alpha": alpha}, [a, b])
    close(g, t64(a) * torch.sigmoid(alpha * t64(a)) * t64(b))


def test_swiglu_needs_equal_shapes():
    schema = registry.get("SwiGLU")
    with pytest.raises(ValueError, match="one shape"):
        schema.infer_fn(schema.with_defaults({}), [(2, 3), (3,)], {})


@pytest.mark.parametrize("fmod", [False, True])
def test_mod(fmod):
    a = np.array([[5.5, -5.5, 5.5, -5.5, 0.0, 3.0, -1.0, np.inf, 2.0, 7.0]], np.float32)
    b = np.array([[2.0, 2.0, -2.0, -2.0, -3.0, np.inf, np.inf, 2.0, 0.0, 3.5]], np.float32)
    (y,) = run_op("Mod", {"fmod": fmod}, [a, b])
    fn = torch.fmod if fmod else torch.remainder
    ref = fn(torch.from_numpy(a), torch.from_numpy(b)).numpy()
    np.testing.assert_array_equal(y, ref)
    (y2,) = run_op("Mod", {"fmod": fmod}, [randn(2, 3, 4) * 5, np.abs(randn(4)) + 0.5])
    assert y2.shape == (2, 3, 4)
