"""BatchNormTraining (batch statistics, updated running statistics) and SpaceToDepth's mode:
the NumPy reference against torch and against ONNX's own reference (onnx.reference), infer()
against the reference's shapes, attribute validation."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
from _ir_check import close, run_op, t64
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node

R = np.random.default_rng(20250101)


def randn(*shape):
    return R.standard_normal(shape).astype(np.float32)


# ----------------------------------------------------------------------------- SpaceToDepth
def test_space_to_depth_crd_is_pixel_unshuffle():
    x = randn(2, 3, 6, 4)
    (y,) = run_op("SpaceToDepth", {"blocksize": 2, "mode": "CRD"}, [x])
    close(y, F.pixel_unshuffle(t64(x), 2))


@pytest.mark.parametrize("b", [2, 3])
def test_space_to_depth_inverts_depth_to_space_per_mode(b):
    x = randn(1, 2, 3 * b, 2 * b)
    for mode in ("DCR", "CRD"):
        (z,) = run_op("SpaceToDepth", {"blocksize": b, "mode": mode}, [x])
        assert z.shape == (1, 2 * b * b, 3, 2)
        (back,) = run_op("DepthToSpace", {"blocksize": b, "mode": mode}, [z])
        np.testing.assert_array_equal(back, x)


def test_space_to_depth_default_mode_is_dcr():
    x = randn(1, 2, 4, 6)
    (a,) = run_op("SpaceToDepth", {"blocksize": 2}, [x])
    (b,) = run_op("SpaceToDepth", {"blocksize": 2, "mode": "DCR"}, [x])
    np.testing.assert_array_equal(a, b)
    (c,) = run_op("SpaceToDepth", {"blocksize": 2, "mode": "CRD"}, [x])
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_space_to_depth_matches_onnx_reference(mode):
    x = randn(1, 2, 4, 6)
    node = helper.make_node("SpaceToDepth", ["x"], ["y"], blocksize=2, mode=mode)
    g = helper.make_graph([node], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 28)])
    (want,) = ReferenceEvaluator(m).run(None, {"x": x})
    (y,) = run_op("SpaceToDepth", {"blocksize": 2, "mode": mode}, [x])
    np.testing.assert_array_equal(y, want)


def test_space_to_depth_rejects_unknown_mode():
    node = Node("n", "SpaceToDepth", ["x"], {"blocksize": 2, "mode": "RDC"})
    assert any("mode" in p for p in registry.get("SpaceToDepth").validate(node))


# ------------------------------------------------------------------------ BatchNormTraining
def _onnx_training(x, s, b, mean, var, momentum, eps):
    """ONNX's BatchNormalization training_mode=1 (opset 15) through onnx.reference."""
    vi = helper.make_tensor_value_info
    node = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"],
                            ["y", "rm", "rv"], epsilon=eps, momentum=momentum,
                            training_mode=1)
    g = helper.make_graph([node], "g", [vi(n, TensorProto.FLOAT, a.shape) for n, a in
                                        zip("xsbmv", (x, s, b, mean, var), strict=True)],
                          [vi("y", TensorProto.FLOAT, x.shape),
                           vi("rm", TensorProto.FLOAT, mean.shape),
                           vi("rv", TensorProto.FLOAT, var.shape)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 15)])
    onnx.checker.check_model(m)
    return ReferenceEvaluator(m).run(None, {"x": x, "s": s, "b": b, "m": mean, "v": var})


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (4, 3), (2, 3, 7), (2, 3, 2, 3, 2)])
def test_batch_norm_training_against_torch(shape):
    c = shape[1]
    x, s, b, mean = randn(*shape), randn(c), randn(c), randn(c)
    var = np.abs(randn(c)) + 0.5
    y, rm, rv = run_op("BatchNormTraining", {"epsilon": 1e-3, "momentum": 0.2}, [x],
                       {"scale": s, "bias": b, "mean": mean, "var": var})
    # y: torch in training mode (batch statistics); running stats: ONNX's biased variance
    rmean, rvar = t64(mean), t64(var)
    want = F.batch_norm(t64(x), None, None, t64(s), t64(b), training=True, eps=1e-3)
    close(y, want)
    dims = [0, *range(2, len(shape))]
    close(rm, 0.8 * rmean + 0.2 * t64(x).mean(dim=dims))
    close(rv, 0.8 * rvar + 0.2 * t64(x).var(dim=dims, unbiased=False))


@pytest.mark.parametrize("eps,momentum", [(1e-5, 0.9), (1e-2, 0.5)])
def test_batch_norm_training_matches_onnx_reference(eps, momentum):
    x, s, b, mean = randn(2, 3, 4, 5), randn(3), randn(3), randn(3)
    var = np.abs(randn(3)) + 0.5
    want = _onnx_training(x, s, b, mean, var, momentum, eps)
    got = run_op("BatchNormTraining", {"epsilon": eps, "momentum": round(1 - momentum, 7)},
                 [x], {"scale": s, "bias": b, "mean": mean, "var": var})
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)


def test_batch_norm_training_without_affine():
    x, mean, var = randn(3, 2, 4), randn(2), np.abs(randn(2)) + 0.1
    y, rm, rv = run_op("BatchNormTraining", {}, [x], {"mean": mean, "var": var})
    close(y, F.batch_norm(t64(x), None, None, training=True, eps=1e-5))
    close(rm, 0.9 * t64(mean) + 0.1 * t64(x).mean(dim=[0, 2]))
    assert rv.shape == (2,)


def test_batch_norm_training_weights_as_inputs():
    """scale, bias, mean, var bound to inputs give the same outputs as stored weights."""
    x, s, b, mean, var = randn(2, 3, 4, 4), randn(3), randn(3), randn(3), randn(3) ** 2
    schema = registry.get("BatchNormTraining")
    node = Node("n", "BatchNormTraining", ["x", "s", "b", "m", "v"], {})
    assert schema.validate(node) == []
    got = schema.reference_node(node, [x, s, b, mean, var], {})
    want = run_op("BatchNormTraining", {}, [x], {"scale": s, "bias": b, "mean": mean,
                                                "var": var})
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
    assert schema.infer_node(node, [x.shape, (3,), (3,), (3,), (3,)], {}) == [
        (2, 3, 4, 4), (3,), (3,)]


def test_batch_norm_training_rejects():
    schema = registry.get("BatchNormTraining")
    with pytest.raises(ValueError, match="N, C"):
        schema.infer_fn(schema.with_defaults({}), [(5,)], {"mean": (5,), "var": (5,)})
    with pytest.raises(ValueError, match="shape"):
        schema.infer_fn(schema.with_defaults({}), [(2, 3, 4)], {"mean": (4,), "var": (3,)})
    problems = schema.validate(Node("n", "BatchNormTraining", ["x"], {}), ["mean"])
    assert any("'var' is missing" in p for p in problems)


def test_torch_running_var_differs():
    """Why the PyTorch emitter is explicit: nn.BatchNorm updates the running variance with
    the unbiased batch variance, ONNX (and the IR) with the biased one."""
    x = randn(2, 3, 2, 2)
    bn = torch.nn.BatchNorm2d(3, momentum=0.1).double().train()
    bn(t64(x))
    (_, _, rv) = run_op("BatchNormTraining", {}, [x], {"mean": np.zeros(3, np.float32),
                                                       "var": np.ones(3, np.float32)})
    assert not np.allclose(bn.running_var.numpy(), rv, rtol=1e-6)
