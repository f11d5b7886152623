"""Op reference implementations against torch (an independent implementation), and infer()
against the reference outputs' shapes (run_op checks that on every case)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _ir_check import close, run_op, t64

from nnrosetta.ir import registry

R = np.random.default_rng(20240601)


def randn(*shape):
    return R.standard_normal(shape).astype(np.float32)


def torch_pad(x, pads, value=0.0):
    """IR pads [top, left, bottom, right] -> F.pad's (left, right, top, bottom)."""
    t, left, b, r = pads
    return F.pad(x, (left, r, t, b), value=value)


# ----------------------------------------------------------------------------- Conv
CONV_CASES = {
    # id: (input shape, out channels, attrs, bias)
    "3x3": ((1, 3, 8, 8), 4, {"kernel_shape": [3, 3]}, False),
    "stride2_pad1_bias": ((2, 3, 9, 9), 5, {"kernel_shape": [3, 3], "strides": [2, 2],
                                            "pads": [1, 1, 1, 1]}, True),
    "asym_pads_dilation": ((1, 4, 11, 13), 6, {"kernel_shape": [3, 2], "strides": [2, 1],
                                               "pads": [1, 0, 2, 3], "dilations": [2, 3]},
                           True),
    "groups2_dilation": ((1, 6, 12, 12), 4, {"kernel_shape": [3, 3], "group": 2,
                                             "dilations": [2, 2], "pads": [2, 2, 2, 2]}, True),
    "groups3_stride": ((2, 6, 10, 9), 9, {"kernel_shape": [2, 3], "group": 3,
                                          "strides": [3, 2], "pads": [0, 1, 1, 0]}, False),
    "depthwise": ((1, 8, 10, 10), 8, {"kernel_shape": [3, 3], "group": 8,
                                      "pads": [1, 1, 1, 1]}, True),
    "depthwise_multiplier2": ((1, 4, 7, 7), 8, {"kernel_shape": [3, 3], "group": 4,
                                                "strides": [2, 2], "pads": [0, 0, 1, 1]},
                              False),
    "1x1": ((1, 16, 5, 5), 7, {"kernel_shape": [1, 1]}, True),
    "alexnet_conv1_like": ((1, 3, 39, 39), 8, {"kernel_shape": [11, 11], "strides": [4, 4]},
                           True),
}


@pytest.mark.parametrize("case", CONV_CASES.values(), ids=CONV_CASES.keys())
def test_conv(case):
    shape, o, attrs, bias = case
    g = attrs.get("group", 1)
    x = randn(*shape)
    w = randn(o, shape[1] // g, *attrs["kernel_shape"])
    weights = {"weight": w} | ({"bias": randn(o)} if bias else {})
    (y,) = run_op("Conv", attrs, [x], weights)
    ref = F.conv2d(torch_pad(t64(x), attrs.get("pads", [0, 0, 0, 0])), t64(w),
                   t64(weights["bias"]) if bias else None, stride=attrs.get("strides", 1),
                   dilation=attrs.get("dilations", 1), groups=g)
    close(y, ref)


def test_conv_rejects_channel_mismatch():
    schema = registry.get("Conv")
    attrs = schema.with_defaults({"kernel_shape": [3, 3], "group": 2})
    with pytest.raises(ValueError, match="channels"):
        schema.infer_fn(attrs, [(1, 6, 8, 8)], {"weight": (4, 6, 3, 3)})
    with pytest.raises(ValueError, match="kernel_shape"):
        schema.infer_fn(attrs, [(1, 6, 8, 8)], {"weight": (4, 3, 5, 5)})


# ----------------------------------------------------------------------------- ConvTranspose
DECONV_CASES = {
    # id: (input shape, out channels, attrs, bias)
    "basic": ((1, 3, 5, 5), 4, {"kernel_shape": [3, 3]}, False),
    "stride2_pad1_outpad1": ((2, 4, 6, 7), 3, {"kernel_shape": [3, 3], "strides": [2, 2],
                                               "pads": [1, 1, 1, 1],
                                               "output_padding": [1, 1]}, True),
    "fcn_upsample": ((1, 5, 4, 4), 5, {"kernel_shape": [4, 4], "strides": [2, 2],
                                       "pads": [1, 1, 1, 1]}, False),
    "groups2_stride_dilation": ((1, 4, 5, 6), 6, {"kernel_shape": [3, 2], "strides": [2, 3],
                                                  "dilations": [2, 1], "group": 2,
                                                  "output_padding": [1, 2]}, True),
    "depthwise": ((1, 6, 5, 5), 6, {"kernel_shape": [3, 3], "strides": [2, 2], "group": 6,
                                    "pads": [1, 1, 1, 1]}, True),
    "asym_pads": ((1, 3, 6, 5), 4, {"kernel_shape": [3, 3], "strides": [2, 2],
                                    "pads": [0, 2, 1, 1], "output_padding": [1, 0]}, True),
}


@pytest.mark.parametrize("case", DECONV_CASES.values(), ids=DECONV_CASES.keys())
def test_conv_transpose(case):
    shape, o, attrs, bias = case
    g = attrs.get("group", 1)
    x = randn(*shape)
    w = randn(shape[1], o // g, *attrs["kernel_shape"])
    weights = {"weight": w} | ({"bias": randn(o)} if bias else {})
    (y,) = run_op("ConvTranspose", attrs, [x], weights)
    t, left, b, r = attrs.get("pads", [0, 0, 0, 0])
    full = F.conv_transpose2d(t64(x), t64(w), t64(weights["bias"]) if bias else None,
                              stride=attrs.get("strides", 1),
                              output_padding=attrs.get("output_padding", 0), groups=g,
                              dilation=attrs.get("dilations", 1))
    ref = full[:, :, t:full.shape[2] - b, left:full.shape[3] - r]
    close(y, ref)


def test_conv_transpose_symmetric_pads_match_torch_padding():
    x, w, bias = randn(1, 4, 5, 5), randn(4, 3, 3, 3), randn(3)
    attrs = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1],
             "output_padding": [1, 1]}
    (y,) = run_op("ConvTranspose", attrs, [x], {"weight": w, "bias": bias})
    close(y, F.conv_transpose2d(t64(x), t64(w), t64(bias), stride=2, padding=1,
                                output_padding=1))


# ----------------------------------------------------------------------------- Pool
POOL_CASES = {
    # id: (input shape, attrs); symmetric pads, compared with torch directly
    "max2x2": ((1, 3, 8, 8), {"mode": "max", "kernel_shape": [2, 2], "strides": [2, 2]}),
    "max3x3s2_alexnet": ((1, 4, 13, 13), {"mode": "max", "kernel_shape": [3, 3],
                                          "strides": [2, 2]}),
    "max_ceil_partial": ((2, 3, 14, 14), {"mode": "max", "kernel_shape": [3, 3],
                                          "strides": [2, 2], "ceil_mode": True}),
    "max_ceil_drop_last": ((1, 2, 5, 7), {"mode": "max", "kernel_shape": [2, 2],
                                          "strides": [2, 2], "pads": [1, 1, 1, 1],
                                          "ceil_mode": True}),
    "max_pad_rect": ((1, 2, 9, 7), {"mode": "max", "kernel_shape": [3, 2], "strides": [2, 1],
                                    "pads": [1, 1, 1, 1]}),
    "avg2x2": ((1, 3, 8, 8), {"mode": "avg", "kernel_shape": [2, 2], "strides": [2, 2]}),
    "avg_pad_include": ((1, 3, 7, 7), {"mode": "avg", "kernel_shape": [3, 3],
                                       "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    "avg_pad_exclude": ((1, 3, 7, 7), {"mode": "avg", "kernel_shape": [3, 3],
                                       "strides": [2, 2], "pads": [1, 1, 1, 1],
                                       "count_include_pad": False}),
    "avg_ceil_googlenet": ((1, 2, 14, 14), {"mode": "avg", "kernel_shape": [3, 3],
                                            "strides": [2, 2], "ceil_mode": True}),
    "avg_ceil_pad_include": ((1, 2, 6, 9), {"mode": "avg", "kernel_shape": [3, 3],
                                            "strides": [2, 2], "pads": [1, 1, 1, 1],
                                            "ceil_mode": True}),
    "avg_ceil_pad_exclude": ((1, 2, 6, 9), {"mode": "avg", "kernel_shape": [3, 3],
                                            "strides": [2, 2], "pads": [1, 1, 1, 1],
                                            "ceil_mode": True, "count_include_pad": False}),
    "avg_ceil_drop_last": ((1, 2, 5, 5), {"mode": "avg", "kernel_shape": [2, 2],
                                          "strides": [2, 2], "pads": [1, 1, 1, 1],
                                          "ceil_mode": True}),
    "avg_ceil_stride3": ((1, 1, 10, 11), {"mode": "avg", "kernel_shape": [4, 4],
                                          "strides": [3, 3], "pads": [2, 1, 2, 1],
                                          "ceil_mode": True}),
}


@pytest.mark.parametrize("case", POOL_CASES.values(), ids=POOL_CASES.keys())
def test_pool(case):
    shape, attrs = case
    x = randn(*shape)
    (y,) = run_op("Pool", attrs, [x])
    pads = attrs.get("pads", [0, 0, 0, 0])
    kw = {"kernel_size": attrs["kernel_shape"], "stride": attrs.get("strides", [1, 1]),
          "padding": pads[:2], "ceil_mode": attrs.get("ceil_mode", False)}
    if attrs["mode"] == "max":
        ref = F.max_pool2d(t64(x), **kw)
    else:
        ref = F.avg_pool2d(t64(x), **kw, count_include_pad=attrs.get("count_include_pad", True))
    close(y, ref)


ASYM_POOL_CASES = {
    "max": {"mode": "max", "kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 1, 2, 1]},
    "avg_include": {"mode": "avg", "kernel_shape": [3, 2], "strides": [2, 2],
                    "pads": [1, 0, 2, 1]},
    "avg_exclude": {"mode": "avg", "kernel_shape": [3, 3], "strides": [1, 2],
                    "pads": [2, 1, 0, 1], "count_include_pad": False},
}


@pytest.mark.parametrize("attrs", ASYM_POOL_CASES.values(), ids=ASYM_POOL_CASES.keys())
def test_pool_asymmetric_pads(attrs):
    """No ceil_mode: the result is pooling the explicitly padded input."""
    x = randn(1, 3, 9, 8)
    (y,) = run_op("Pool", attrs, [x])
    k, s = attrs["kernel_shape"], attrs["strides"]
    if attrs["mode"] == "max":
        ref = F.max_pool2d(torch_pad(t64(x), attrs["pads"], -np.inf), k, s)
    elif attrs.get("count_include_pad", True):
        ref = F.avg_pool2d(torch_pad(t64(x), attrs["pads"]), k, s)
    else:
        total = F.avg_pool2d(torch_pad(t64(x), attrs["pads"]), k, s, divisor_override=1)
        count = F.avg_pool2d(torch_pad(torch.ones_like(t64(x)), attrs["pads"]), k, s,
                             divisor_override=1)
        ref = total / count
    close(y, ref)


def test_pool_ceil_asymmetric_rule():
    """The ceil_mode drop rule uses pad_begin only: in 6, k 2, s 2, pads (1, 2): ceil gives
    (6+3-2)/2 -> 4 + 1 = 5 windows; the 5th starts at 8 >= 6 + 1, so 4 remain."""
    attrs = {"mode": "max", "kernel_shape": [2, 2], "strides": [2, 2], "pads": [1, 1, 2, 2],
             "ceil_mode": True}
    x = randn(1, 1, 6, 6)
    (y,) = run_op("Pool", attrs, [x])
    assert y.shape == (1, 1, 4, 4)
    close(y, F.max_pool2d(torch_pad(t64(x), attrs["pads"], -np.inf), 2, 2))
    # avg: the windows that reach into the bottom padding count it in the divisor
    (ya,) = run_op("Pool", attrs | {"mode": "avg"}, [x])
    close(ya, F.avg_pool2d(torch_pad(t64(x), attrs["pads"]), 2, 2))


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_global(mode):
    x = randn(2, 5, 7, 6)
    (y,) = run_op("Pool", {"mode": mode, "global_pooling": True}, [x])
    ref = t64(x).amax(dim=(2, 3), keepdim=True) if mode == "max" else \
        F.adaptive_avg_pool2d(t64(x), 1)
    close(y, ref)


def test_pool_needs_kernel_unless_global():
    schema = registry.get("Pool")
    with pytest.raises(ValueError, match="kernel_shape"):
        schema.infer_fn(schema.with_defaults({"mode": "max"}), [(1, 1, 4, 4)], {})


# ----------------------------------------------------------------------------- LRN
@pytest.mark.parametrize("size", [1, 3, 4, 5])
def test_lrn_across(size):
    x = randn(2, 7, 5, 4) * 3
    attrs = {"size": size, "alpha": 1e-2, "beta": 0.75, "bias": 2.0}
    (y,) = run_op("LRN", attrs, [x])
    close(y, F.local_response_norm(t64(x), size, alpha=1e-2, beta=0.75, k=2.0))


@pytest.mark.parametrize("size", [1, 3, 5])
def test_lrn_within(size):
    x = randn(1, 3, 7, 6) * 3
    attrs = {"size": size, "alpha": 5e-2, "beta": 0.75, "bias": 1.0, "region": "within"}
    (y,) = run_op("LRN", attrs, [x])
    avg = F.avg_pool2d(t64(x) ** 2, size, stride=1, padding=(size - 1) // 2,
                       count_include_pad=True)
    close(y, t64(x) / (1.0 + 5e-2 * avg) ** 0.75)


# ----------------------------------------------------------------------------- FullyConnected
@pytest.mark.parametrize("shape,axis,bias", [((2, 3, 4, 5), 1, True), ((6, 10), 1, False),
                                             ((2, 3, 4), 2, True), ((2, 3, 4), -1, True),
                                             ((2, 3, 4), 0, False)])
def test_fully_connected(shape, axis, bias):
    x = randn(*shape)
    feat = int(np.prod(shape[axis % len(shape):]))
    w = randn(7, feat)
    weights = {"weight": w} | ({"bias": randn(7)} if bias else {})
    (y,) = run_op("FullyConnected", {"axis": axis}, [x], weights)
    ax = axis % len(shape)
    flat = t64(x).reshape(*shape[:ax], feat)
    close(y, F.linear(flat, t64(w), t64(weights["bias"]) if bias else None))


# ----------------------------------------------------------------------------- activations
X_ACT = randn(2, 3, 4, 5) * 2
ACT_CASES = {
    "Relu": ({}, F.relu),
    "LeakyRelu": ({}, lambda x: F.leaky_relu(x, 0.01)),
    "LeakyRelu_0.2": ({"alpha": 0.2}, lambda x: F.leaky_relu(x, 0.2)),
    "Elu": ({}, F.elu),
    "Elu_0.5": ({"alpha": 0.5}, lambda x: F.elu(x, 0.5)),
    "Sigmoid": ({}, torch.sigmoid),
    "Tanh": ({}, torch.tanh),
    "Abs": ({}, torch.abs),
    "Identity": ({}, lambda x: x),
    "Dropout": ({"ratio": 0.3}, lambda x: F.dropout(x, 0.3, training=False)),
    "Power_affine": ({"scale": 2.0, "shift": -1.0}, lambda x: 2.0 * x - 1.0),
    "Power_square": ({"power": 2.0, "scale": 0.5, "shift": 1.0}, lambda x: (1 + 0.5 * x) ** 2),
}


@pytest.mark.parametrize("case", ACT_CASES.items(), ids=ACT_CASES.keys())
def test_elementwise(case):
    name, (attrs, fn) = case
    (y,) = run_op(name.split("_")[0], attrs, [X_ACT])
    close(y, fn(t64(X_ACT)))


def test_power_fractional():
    x = np.abs(randn(3, 4)) + 0.1
    attrs = {"power": 0.75, "scale": 1.5, "shift": 0.25}
    (y,) = run_op("Power", attrs, [x])
    close(y, (0.25 + 1.5 * t64(x)) ** 0.75)


def test_sigmoid_extremes():
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0], np.float32)
    (y,) = run_op("Sigmoid", {}, [x])
    assert np.all(np.isfinite(y))
    close(y, torch.sigmoid(t64(x)))


@pytest.mark.parametrize("shared", [True, False], ids=["shared", "per_channel"])
def test_prelu(shared):
    x = randn(2, 4, 3, 3)
    slope = randn(1) if shared else randn(4)
    (y,) = run_op("PRelu", {}, [x], {"slope": slope})
    close(y, F.prelu(t64(x), t64(slope)))


def test_prelu_rejects_bad_slope():
    schema = registry.get("PRelu")
    with pytest.raises(ValueError, match="slope"):
        schema.infer_fn({}, [(1, 4, 2, 2)], {"slope": (3,)})


@pytest.mark.parametrize("shape,axis", [((2, 5, 3, 3), 1), ((4, 10), 1), ((2, 3, 6), -1),
                                        ((2, 3, 6), 0)])
def test_softmax(shape, axis):
    x = randn(*shape) * 5
    (y,) = run_op("Softmax", {"axis": axis}, [x])
    close(y, torch.softmax(t64(x), dim=axis))


# ----------------------------------------------------------------------------- normalization
@pytest.mark.parametrize("shape", [(2, 4, 3, 5), (3, 4)])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm(shape, affine):
    c = shape[1]
    x = randn(*shape)
    mean, var = randn(c), np.abs(randn(c)) + 0.1
    weights = {"mean": mean, "var": var}
    if affine:
        weights |= {"scale": randn(c), "bias": randn(c)}
    (y,) = run_op("BatchNorm", {"epsilon": 1e-3}, [x], weights)
    ref = F.batch_norm(t64(x), t64(mean), t64(var),
                       t64(weights["scale"]) if affine else None,
                       t64(weights["bias"]) if affine else None, training=False, eps=1e-3)
    close(y, ref)


def test_batch_norm_scale_only():
    x, mean, var, scale = randn(1, 3, 2, 2), randn(3), np.abs(randn(3)) + 0.5, randn(3)
    (y,) = run_op("BatchNorm", {}, [x], {"mean": mean, "var": var, "scale": scale})
    close(y, F.batch_norm(t64(x), t64(mean), t64(var), t64(scale), None, False, eps=1e-5))


SCALE_CASES = {
    "channel": ((2, 4, 3, 3), 1, (4,), True),
    "channel_no_bias": ((2, 4, 3, 3), 1, (4,), False),
    "two_dims": ((2, 4, 3, 5), 1, (4, 3), True),
    "last_axis": ((2, 4, 3, 5), -1, (5,), True),
    "axis0": ((2, 4, 3), 0, (2, 4), False),
}


@pytest.mark.parametrize("case", SCALE_CASES.values(), ids=SCALE_CASES.keys())
def test_scale(case):
    shape, axis, wshape, bias = case
    x, s = randn(*shape), randn(*wshape)
    weights = {"scale": s} | ({"bias": randn(*wshape)} if bias else {})
    (y,) = run_op("Scale", {"axis": axis}, [x], weights)
    ax = axis % len(shape)
    view = wshape + (1,) * (len(shape) - ax - len(wshape))
    ref = t64(x) * t64(s).reshape(view)
    if bias:
        ref = ref + t64(weights["bias"]).reshape(view)
    close(y, ref)


# ----------------------------------------------------------------------------- multi-input
def test_add_coeffs():
    xs = [randn(2, 3, 4) for _ in range(3)]
    (y,) = run_op("Add", {"coeffs": [0.5, -2.0, 3.0]}, xs)
    a, b, c = (t64(x) for x in xs)
    close(y, 0.5 * a - 2.0 * b + 3.0 * c)


@pytest.mark.parametrize("n", [1, 2, 4])
def test_add_plain(n):
    xs = [randn(2, 3, 4) for _ in range(n)]
    (y,) = run_op("Add", {}, xs)
    close(y, sum(t64(x) for x in xs))


def test_add_coeffs_count_mismatch():
    schema = registry.get("Add")
    with pytest.raises(ValueError, match="coeffs"):
        schema.infer_fn({"coeffs": [1.0, 2.0]}, [(2,), (2,), (2,)], {})


def test_mul_and_max():
    xs = [randn(2, 3, 4, 4) for _ in range(3)]
    (ym,) = run_op("Mul", {}, xs)
    close(ym, t64(xs[0]) * t64(xs[1]) * t64(xs[2]))
    (yx,) = run_op("Max", {}, xs)
    close(yx, torch.maximum(torch.maximum(t64(xs[0]), t64(xs[1])), t64(xs[2])))


@pytest.mark.parametrize("axis", [0, 1, 3, -1])
def test_concat(axis):
    base = [2, 3, 4, 5]
    xs = []
    for extra in (1, 2, 3):
        s = list(base)
        s[axis] += extra
        xs.append(randn(*s))
    (y,) = run_op("Concat", {"axis": axis}, xs)
    close(y, torch.cat([t64(x) for x in xs], dim=axis))


def test_concat_rejects_mismatch():
    schema = registry.get("Concat")
    with pytest.raises(ValueError):
        schema.infer_fn({"axis": 1}, [(1, 2, 3, 3), (1, 2, 4, 3)], {})


# ----------------------------------------------------------------------------- shape ops
@pytest.mark.parametrize("axis,split", [(1, [2, 3, 1]), (-1, [1, 4]), (0, [2]), (2, [0, 3])])
def test_split(axis, split):
    x = randn(2, 6, 3, 5)
    outs = run_op("Split", {"axis": axis, "split": split}, [x])
    refs = torch.split(t64(x), split, dim=axis)
    assert len(outs) == len(refs) == len(split)
    for y, r in zip(outs, refs, strict=True):
        close(y, r)


def test_split_rejects_bad_sizes():
    schema = registry.get("Split")
    with pytest.raises(ValueError, match="add up"):
        schema.infer_fn({"axis": 1, "split": [2, 2]}, [(1, 5)], {})


@pytest.mark.parametrize("axis,end", [(1, -1), (2, 3), (0, 1), (1, 2), (-2, -1), (3, 3)])
def test_flatten(axis, end):
    x = randn(2, 3, 4, 5)
    (y,) = run_op("Flatten", {"axis": axis, "end_axis": end}, [x])
    close(y, torch.flatten(t64(x), axis, end))


@pytest.mark.parametrize("shape,expected", [
    ([0, -1], (2, 60)),
    ([0, 0, -1], (2, 3, 20)),
    ([-1, 5], (24, 5)),
    ([0, 3, 2, -1], (2, 3, 2, 10)),
    ([4, 0, -1], (4, 3, 10)),   # the 0 copies input dim 1
    ([120], (120,)),
])
def test_reshape(shape, expected):
    x = randn(2, 3, 4, 5)
    (y,) = run_op("Reshape", {"shape": shape}, [x])
    assert y.shape == expected
    close(y, t64(x).reshape(expected))


@pytest.mark.parametrize("shape", [[6, 0, 10], [-1, -1], [7, -1], [0, 0, 0, 0, 0], [2, -2, 60]])
def test_reshape_rejects(shape):
    schema = registry.get("Reshape")
    with pytest.raises(ValueError):
        schema.infer_fn({"shape": shape}, [(2, 3, 4, 5)], {})
