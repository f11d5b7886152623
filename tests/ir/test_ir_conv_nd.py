"""Conv and ConvTranspose over 1 to 3 spatial axes: reference implementations against torch
(F.conv1d/2d/3d, F.conv_transpose1d/2d/3d; asymmetric pads as an explicit F.pad or a crop),
shape inference and its errors, and 2-D graphs (explicit [1, 1] / [0, 0, 0, 0] attributes as
the Caffe frontend writes them) computing what the empty defaults do."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from tests.ir._ir_check import close, run_op, t64

R = np.random.default_rng(77)


def randn(*shape) -> np.ndarray:
    return R.standard_normal(shape).astype(np.float32)


CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
DECONV = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _torch_pad(begin, end) -> list[int]:
    out = []
    for b, e in zip(reversed(begin), reversed(end), strict=True):
        out += [b, e]
    return out


# x shape, weight shape, attrs
CONV_CASES = {
    "1d": ((2, 3, 11), (4, 3, 3), {"kernel_shape": [3]}),
    "1d_stride_pad_dil": ((2, 4, 13), (6, 2, 3), {"kernel_shape": [3], "strides": [2],
                                                  "pads": [2, 1], "dilations": [2],
                                                  "group": 2}),
    "1d_depthwise": ((1, 4, 9), (4, 1, 4), {"kernel_shape": [4], "pads": [3, 0], "group": 4}),
    "2d_asym": ((1, 3, 9, 8), (4, 3, 3, 2), {"kernel_shape": [3, 2], "strides": [2, 1],
                                            "pads": [0, 1, 1, 0], "dilations": [1, 2]}),
    "3d": ((1, 2, 6, 7, 5), (3, 2, 2, 3, 2), {"kernel_shape": [2, 3, 2]}),
    "3d_full": ((2, 4, 7, 6, 8), (6, 2, 3, 2, 3),
                {"kernel_shape": [3, 2, 3], "strides": [2, 1, 2], "pads": [1, 0, 1, 1, 1, 0],
                 "dilations": [1, 2, 1], "group": 2}),
}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", CONV_CASES.values(), ids=CONV_CASES.keys())
def test_conv_against_torch(case, bias):
    xs, ws, attrs = case
    n = len(xs) - 2
    x, w = randn(*xs), randn(*ws)
    weights = {"weight": w}
    if bias:
        weights["bias"] = randn(ws[0])
    (y,) = run_op("Conv", attrs, [x], weights)
    p = attrs.get("pads") or [0] * (2 * n)
    xt = F.pad(t64(x), _torch_pad(p[:n], p[n:]))
    ref = CONV[n](xt, t64(w), t64(weights["bias"]) if bias else None,
                  stride=attrs.get("strides", [1] * n), dilation=attrs.get("dilations", [1] * n),
                  groups=attrs.get("group", 1))
    close(y, ref)


DECONV_CASES = {
    "1d": ((2, 3, 7), (3, 4, 3), {"kernel_shape": [3], "strides": [2]}),
    "1d_pads_outpad": ((2, 4, 6), (4, 3, 4), {"kernel_shape": [4], "strides": [3],
                                              "pads": [1, 2], "output_padding": [2],
                                              "group": 2, "dilations": [1]}),
    "1d_dilated": ((1, 2, 5), (2, 2, 3), {"kernel_shape": [3], "dilations": [2],
                                          "pads": [1, 1]}),
    "2d": ((1, 3, 5, 4), (3, 2, 3, 3), {"kernel_shape": [3, 3], "strides": [2, 1],
                                        "pads": [1, 0, 0, 1], "output_padding": [1, 0]}),
    "3d": ((1, 2, 3, 4, 3), (2, 3, 2, 3, 2), {"kernel_shape": [2, 3, 2],
                                              "strides": [2, 1, 2]}),
    "3d_full": ((2, 4, 3, 4, 3), (4, 2, 3, 2, 3),
                {"kernel_shape": [3, 2, 3], "strides": [2, 2, 1], "pads": [1, 0, 1, 0, 1, 1],
                 "dilations": [1, 2, 1], "group": 2, "output_padding": [1, 1, 0]}),
}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", DECONV_CASES.values(), ids=DECONV_CASES.keys())
def test_conv_transpose_against_torch(case, bias):
    xs, ws, attrs = case
    n = len(xs) - 2
    g = attrs.get("group", 1)
    x, w = randn(*xs), randn(*ws)
    weights = {"weight": w}
    if bias:
        weights["bias"] = randn(ws[1] * g)
    (y,) = run_op("ConvTranspose", attrs, [x], weights)
    p = attrs.get("pads") or [0] * (2 * n)
    op_ = attrs.get("output_padding") or [0] * n
    s = attrs.get("strides", [1] * n)
    d = attrs.get("dilations", [1] * n)
    # torch: full result (output_padding grows the end), then crop the pads
    full = DECONV[n](t64(x), t64(w), t64(weights["bias"]) if bias else None, stride=s,
                     dilation=d, groups=g)
    full = F.pad(full, _torch_pad([0] * n, op_)) if any(op_) else full
    if any(op_) and bias:   # the padded end positions hold the bias only
        b = t64(weights["bias"]).reshape(1, -1, *[1] * n)
        mask = F.pad(torch_ones_like(full, n, op_), _torch_pad([0] * n, op_))
        full = full + b * (1 - mask)
    idx = tuple(slice(p[a], full.shape[2 + a] - p[n + a]) for a in range(n))
    close(y, full[(slice(None), slice(None), *idx)])


def torch_ones_like(full, n, op_):
    shape = list(full.shape)
    for a in range(n):
        shape[2 + a] -= op_[a]
    return torch.ones(shape, dtype=full.dtype)


def test_conv_transpose_output_padding_against_torch_layer():
    """output_padding smaller than the stride: PyTorch's own output_padding argument."""
    x, w, b = randn(1, 2, 4, 3, 5), randn(2, 3, 3, 2, 3), randn(3)
    attrs = {"kernel_shape": [3, 2, 3], "strides": [2, 3, 2], "output_padding": [1, 2, 0],
             "pads": [1, 0, 1, 1, 0, 1]}
    (y,) = run_op("ConvTranspose", attrs, [x], {"weight": w, "bias": b})
    close(y, F.conv_transpose3d(t64(x), t64(w), t64(b), stride=(2, 3, 2), padding=(1, 0, 1),
                                output_padding=(1, 2, 0)))


@pytest.mark.parametrize("op", ["Conv", "ConvTranspose"])
def test_2d_explicit_defaults_equal_empty_defaults(op):
    """A 2-D node as the Caffe frontend and older graphs write it (every attribute explicit)
    computes exactly what the [] defaults compute."""
    x, w, b = randn(2, 4, 7, 6), randn(4, 4, 3, 3), randn(4)
    explicit = {"kernel_shape": [3, 3], "strides": [1, 1], "pads": [0, 0, 0, 0],
                "dilations": [1, 1], "group": 1}
    if op == "ConvTranspose":
        explicit["output_padding"] = [0, 0]
    (a,) = run_op(op, explicit, [x], {"weight": w, "bias": b})
    (c,) = run_op(op, {"kernel_shape": [3, 3]}, [x], {"weight": w, "bias": b})
    np.testing.assert_array_equal(a, c)


@pytest.mark.parametrize("op,attrs,xs,ws,match", [
    ("Conv", {"kernel_shape": [3, 3]}, (1, 2, 9), (2, 2, 3, 3), "kernel_shape"),
    ("Conv", {"kernel_shape": [3]}, (1, 2, 9), (2, 2, 3, 3), "weight shape"),
    ("Conv", {"kernel_shape": [3], "pads": [1, 1, 1, 1]}, (1, 2, 9), (2, 2, 3), "pads"),
    ("Conv", {"kernel_shape": [3], "strides": [1, 1]}, (1, 2, 9), (2, 2, 3), "strides"),
    ("Conv", {"kernel_shape": [1, 1, 1, 1]}, (1, 2, 3, 3, 3, 3), (2, 2, 1, 1, 1, 1),
     "1 to 3 spatial"),
    ("Conv", {"kernel_shape": [5]}, (1, 2, 3), (2, 2, 5), "does not fit"),
    ("ConvTranspose", {"kernel_shape": [3], "output_padding": [1, 1]}, (1, 2, 9), (2, 2, 3),
     "output_padding"),
    ("ConvTranspose", {"kernel_shape": [2, 2, 2], "pads": [0, 0, 0, 0]}, (1, 2, 3, 3, 3),
     (2, 2, 2, 2, 2), "pads"),
])
def test_infer_errors(op, attrs, xs, ws, match):
    schema = registry.get(op)
    with pytest.raises(ValueError, match=match):
        schema.infer_fn(schema.with_defaults(attrs), [xs], {"weight": ws})


def test_graph_validates_and_runs_1d_and_3d():
    from nnrosetta.ir.graph import Graph, TensorInfo

    ws = {"c1.weight": randn(4, 2, 3), "c1.bias": randn(4), "c3.weight": randn(2, 1, 2, 2, 2)}
    nodes = [Node("x", "Input", [], {"shape": [1, 2, 10]}),
             Node("c1", "Conv", ["x"], {"kernel_shape": [3], "pads": [1, 1]}),
             Node("v", "Input", [], {"shape": [1, 2, 4, 4, 4]}),
             Node("c3", "ConvTranspose", ["v"], {"kernel_shape": [2, 2, 2], "strides": [2, 2, 2],
                                                 "group": 2})]
    g = Graph(nodes, ["c1", "c3"], {},
              {k: TensorInfo(k, "float32", v.shape) for k, v in ws.items()})
    assert registry.validate(g) == []
    out = registry.run_reference(g, ws, {"x": randn(1, 2, 10), "v": randn(1, 2, 4, 4, 4)})
    assert out["c1"].shape == (1, 4, 10) and out["c3"].shape == (1, 2, 8, 8, 8)
