"""Per-layer: the IR reference (nnrosetta.ir.run_reference) on the converted graph against
OpenCV's Caffe runtime on the same tiny random net, node by node."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from tests.frontend_caffe._nets import model_for, rng_blobs, to_ir, write_model

cv2 = importlib.import_module("cv2")

from nnrosetta.ir import run_reference  # noqa: E402
from nnrosetta_frontend_caffe import CaffeConverter  # noqa: E402

HEAD = 'name: "t"\ninput: "data"\ninput_shape { dim: %s }\n'


def _head(shape):
    return HEAD % " dim: ".join(str(d) for d in shape)


r = rng_blobs(0)

# id, input shape, layer prototxt, blobs by layer name
CASES = [
    ("conv", (1, 3, 9, 9), """
layer { name: "c" type: "Convolution" bottom: "data" top: "c"
  convolution_param { num_output: 4 kernel_size: 3 stride: 2 pad: 1 } }""",
     {"c": [r(4, 3, 3, 3), r(4)]}),
    ("conv_hw_group_dil_nobias", (1, 4, 10, 11), """
layer { name: "c" type: "Convolution" bottom: "data" top: "c"
  convolution_param { num_output: 6 kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 1
  pad_h: 2 pad_w: 1 group: 2 dilation: 2 bias_term: false } }""",
     {"c": [r(6, 2, 3, 2)]}),
    ("deconv", (1, 4, 5, 5), """
layer { name: "d" type: "Deconvolution" bottom: "data" top: "d"
  convolution_param { num_output: 6 kernel_size: 4 stride: 2 pad: 1 group: 2 } }""",
     {"d": [r(4, 3, 4, 4), r(6)]}),
    ("pool_max_ceil", (1, 2, 8, 8), """
layer { name: "p" type: "Pooling" bottom: "data" top: "p"
  pooling_param { pool: MAX kernel_size: 3 stride: 2 } }""", {}),
    ("pool_ave_pad_ceil", (1, 2, 7, 7), """
layer { name: "p" type: "Pooling" bottom: "data" top: "p"
  pooling_param { pool: AVE kernel_size: 3 stride: 2 pad: 1 } }""", {}),
    ("pool_max_pad_hw", (1, 2, 9, 6), """
layer { name: "p" type: "Pooling" bottom: "data" top: "p"
  pooling_param { pool: MAX kernel_h: 3 kernel_w: 2
  stride_h: 2 stride_w: 2 pad_h: 1 pad_w: 0 } }""",
     {}),
    ("pool_global_ave", (1, 3, 5, 6), """
layer { name: "p" type: "Pooling" bottom: "data" top: "p"
  pooling_param { pool: AVE global_pooling: true } }""", {}),
    ("inner_product", (2, 3, 4, 4), """
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc"
  inner_product_param { num_output: 7 } }""", {"fc": [r(7, 48), r(7)]}),
    ("relu", (1, 3, 4, 4), """
layer { name: "a" type: "ReLU" bottom: "data" top: "a" }""", {}),
    ("leaky_relu", (1, 3, 4, 4), """
layer { name: "a" type: "ReLU" bottom: "data" top: "a" relu_param { negative_slope: 0.2 } }""",
     {}),
    ("prelu", (1, 3, 4, 4), """
layer { name: "a" type: "PReLU" bottom: "data" top: "a" }""", {"a": [r(3)]}),
    ("prelu_shared", (1, 3, 4, 4), """
layer { name: "a" type: "PReLU" bottom: "data" top: "a" prelu_param { channel_shared: true } }""",
     {"a": [r(1)]}),
    ("elu", (1, 3, 4, 4), """
layer { name: "a" type: "ELU" bottom: "data" top: "a" elu_param { alpha: 0.7 } }""", {}),
    ("sigmoid", (1, 3, 4, 4), """
layer { name: "a" type: "Sigmoid" bottom: "data" top: "a" }""", {}),
    ("tanh", (1, 3, 4, 4), """
layer { name: "a" type: "TanH" bottom: "data" top: "a" }""", {}),
    ("absval", (1, 3, 4, 4), """
layer { name: "a" type: "AbsVal" bottom: "data" top: "a" }""", {}),
    ("power", (1, 3, 4, 4), """
layer { name: "a0" type: "AbsVal" bottom: "data" top: "a0" }
layer { name: "a" type: "Power" bottom: "a0" top: "a"
  power_param { power: 2 scale: 0.5 shift: 1.5 } }""", {}),
    ("lrn_across", (1, 7, 4, 4), """
layer { name: "n" type: "LRN" bottom: "data" top: "n"
  lrn_param { local_size: 5 alpha: 0.1 beta: 0.75 k: 1 } }""", {}),
    ("lrn_within", (1, 3, 6, 6), """
layer { name: "n" type: "LRN" bottom: "data" top: "n"
  lrn_param { local_size: 3 alpha: 0.1 beta: 0.75 norm_region: WITHIN_CHANNEL } }""", {}),
    ("dropout", (1, 3, 4, 4), """
layer { name: "a" type: "Dropout" bottom: "data" top: "a" dropout_param { dropout_ratio: 0.3 } }""",
     {}),
    ("softmax", (2, 5, 3, 3), """
layer { name: "a" type: "Softmax" bottom: "data" top: "a" }""", {}),
    ("concat_eltwise", (1, 3, 4, 4), """
layer { name: "r" type: "ReLU" bottom: "data" top: "r" }
layer { name: "s" type: "Sigmoid" bottom: "data" top: "s" }
layer { name: "cat" type: "Concat" bottom: "r" bottom: "s" top: "cat" }
layer { name: "cat0" type: "Concat" bottom: "r" bottom: "s" top: "cat0"
  concat_param { concat_dim: 1 } }
layer { name: "sum" type: "Eltwise" bottom: "cat" bottom: "cat0" top: "sum"
  eltwise_param { operation: SUM coeff: 0.5 coeff: -2 } }
layer { name: "prod" type: "Eltwise" bottom: "sum" bottom: "cat" top: "prod"
  eltwise_param { operation: PROD } }
layer { name: "max" type: "Eltwise" bottom: "prod" bottom: "cat0" top: "max"
  eltwise_param { operation: MAX } }""", {}),
    ("batchnorm_scale_fused", (2, 3, 4, 4), """
layer { name: "bn" type: "BatchNorm" bottom: "data" top: "bn" batch_norm_param { eps: 0.001 } }
layer { name: "sc" type: "Scale" bottom: "bn" top: "sc" scale_param { bias_term: true } }""",
     {"bn": [r(3), np.abs(r(3)) + 0.5, np.array([0.5], np.float32)], "sc": [r(3), r(3)]}),
    ("batchnorm_zero_factor", (1, 3, 4, 4), """
layer { name: "bn" type: "BatchNorm" bottom: "data" top: "bn" }""",
     {"bn": [r(3), np.abs(r(3)) + 0.5, np.array([0.0], np.float32)]}),
    ("scale_standalone", (1, 3, 4, 4), """
layer { name: "sc" type: "Scale" bottom: "data" top: "sc" }""", {"sc": [r(3)]}),
    ("flatten_reshape", (2, 3, 4, 4), """
layer { name: "f" type: "Flatten" bottom: "data" top: "f" }
layer { name: "rs" type: "Reshape" bottom: "f" top: "rs"
  reshape_param { shape { dim: 0 dim: -1 dim: 4 } } }
layer { name: "rs2" type: "Reshape" bottom: "rs" top: "rs2"
  reshape_param { axis: 1 num_axes: 1 shape { dim: 3 dim: 4 } } }""", {}),
    ("split_slice", (1, 6, 3, 3), """
layer { name: "sp" type: "Split" bottom: "data" top: "a" top: "b" }
layer { name: "sl" type: "Slice" bottom: "a" top: "s1" top: "s2" top: "s3"
  slice_param { slice_point: 1 slice_point: 4 } }
layer { name: "sl2" type: "Slice" bottom: "a" top: "t1" top: "t2" slice_param { slice_point: 3 } }
layer { name: "r1" type: "ReLU" bottom: "s2" top: "r1" }
layer { name: "r2" type: "ReLU" bottom: "t2" top: "r2" }""", {}),
    ("inplace_chain", (1, 3, 6, 6), """
layer { name: "c" type: "Convolution" bottom: "data" top: "x"
  convolution_param { num_output: 4 kernel_size: 3 } }
layer { name: "r" type: "ReLU" bottom: "x" top: "x" }
layer { name: "d" type: "Dropout" bottom: "x" top: "x" }
layer { name: "p" type: "Pooling" bottom: "x" top: "y"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }""",
     {"c": [r(4, 3, 3, 3), r(4)]}),
]


def compare(tmp_path, prototxt, blobs, shape, *, legacy=False, options=None, feed_name="data",
            rtol=1e-4, atol=1e-5):
    proto, model = write_model(tmp_path, prototxt, blobs, legacy_blobs=legacy)
    graph, ws, _ = to_ir(proto, model, options)
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    refs = []
    for n in graph.nodes:
        if n.op == "Input":
            continue
        nout = len(n.attrs["_output_shapes"])
        refs += [n.name if i == 0 else f"{n.name}:{i}" for i in range(nout)]
    first_refs = [rf for rf in refs if ":" not in rf]
    ir = run_reference(graph, ws, {feed_name: x}, refs)
    fetch = [graph.node(rf).attrs["_source_name"] for rf in first_refs]
    outs, _ = CaffeConverter().run(model_for(proto, model, options), {feed_name: x}, fetch)
    assert [o[0] for o in outs] == fetch
    for rf, (name, got) in zip(first_refs, outs, strict=True):
        want = ir[rf]
        assert got.shape == want.shape, (rf, name, got.shape, want.shape)
        np.testing.assert_allclose(want, got, rtol=rtol, atol=atol, err_msg=f"{rf} vs {name}")
    return graph, ws


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_layer_matches_opencv(tmp_path, case):
    _, shape, body, blobs = case
    compare(tmp_path, _head(shape) + body, blobs, shape)


def test_batchnorm_scale_is_fused(tmp_path):
    case = next(c for c in CASES if c[0] == "batchnorm_scale_fused")
    graph, ws = compare(tmp_path, _head(case[1]) + case[2], case[3], case[1])
    ops = [n.op for n in graph.nodes]
    assert ops == ["Input", "BatchNorm"]
    bn = graph.node("bn")
    assert bn.attrs["_source_name"] == "sc"
    assert set(ws) == {"bn.mean", "bn.var", "bn.scale", "bn.bias"}
    np.testing.assert_allclose(ws["bn.mean"], case[3]["bn"][0] / 0.5, rtol=1e-6)
    assert bn.attrs["epsilon"] == pytest.approx(1e-3)
    assert bn.attrs["momentum"] == pytest.approx(1 - 0.999)
    assert graph.outputs == ["bn"]


def test_batchnorm_zero_factor_gives_zero_stats(tmp_path):
    case = next(c for c in CASES if c[0] == "batchnorm_zero_factor")
    _, ws = compare(tmp_path, _head(case[1]) + case[2], case[3], case[1])
    assert not ws["bn.mean"].any() and not ws["bn.var"].any()


def test_reshape_keeps_batch_as_zero(tmp_path):
    case = next(c for c in CASES if c[0] == "flatten_reshape")
    graph, _ = compare(tmp_path, _head(case[1]) + case[2], case[3], case[1])
    assert graph.node("rs").attrs["shape"] == [0, 12, 4]
    assert graph.node("rs2").attrs["shape"] == [0, 3, 4, 4]


def test_split_is_alias_and_slice_sizes(tmp_path):
    case = next(c for c in CASES if c[0] == "split_slice")
    graph, _ = compare(tmp_path, _head(case[1]) + case[2], case[3], case[1])
    assert "sp" not in graph.node_map()
    assert graph.node("sl").op == "Split" and graph.node("sl").attrs["split"] == [1, 3, 2]
    assert graph.node("sl2").attrs["split"] == [3, 3]
    assert graph.node("r1").inputs == ["sl:1"]
    # unconsumed tops in prototxt order
    assert graph.outputs == ["sl", "sl:2", "sl2", "r1", "r2"]


def test_inplace_outputs_and_sources(tmp_path):
    case = next(c for c in CASES if c[0] == "inplace_chain")
    graph, _ = compare(tmp_path, _head(case[1]) + case[2], case[3], case[1])
    assert [n.inputs for n in graph.nodes[1:]] == [["data"], ["c"], ["r"], ["d"]]
    assert graph.outputs == ["p"]
    assert graph.metadata["framework"] == "caffe"


def test_legacy_4d_blobs(tmp_path):
    body = """
layer { name: "c" type: "Convolution" bottom: "data" top: "c"
  convolution_param { num_output: 4 kernel_size: 3 } }
layer { name: "fc" type: "InnerProduct" bottom: "c" top: "fc"
  inner_product_param { num_output: 3 } }"""
    compare(tmp_path, _head((1, 2, 5, 5)) + body, {"c": [r(4, 2, 3, 3), r(4)],
                                                   "fc": [r(3, 36), r(3)]},
            (1, 2, 5, 5), legacy=True)


V1_NET = """
name: "v1"
input: "data"
input_dim: 1
input_dim: 3
input_dim: 8
input_dim: 8
layers { name: "conv1" type: CONVOLUTION bottom: "data" top: "conv1"
  blobs_lr: 1 blobs_lr: 2
  convolution_param { num_output: 4 kernel_size: 3 stride: 1 } }
layers { name: "relu1" type: RELU bottom: "conv1" top: "conv1" }
layers { name: "norm1" type: LRN bottom: "conv1" top: "norm1"
  lrn_param { local_size: 3 alpha: 0.01 beta: 0.75 } }
layers { name: "pool1" type: POOLING bottom: "norm1" top: "pool1"
  pooling_param { pool: AVE kernel_size: 2 stride: 2 } }
layers { name: "fc" type: INNER_PRODUCT bottom: "pool1" top: "fc"
  inner_product_param { num_output: 5 } }
layers { name: "drop" type: DROPOUT bottom: "fc" top: "fc" }
layers { name: "prob" type: SOFTMAX bottom: "fc" top: "prob" }
"""


def test_v1_layers_form(tmp_path):
    graph, ws = compare(tmp_path, V1_NET, {"conv1": [r(4, 3, 3, 3), r(4)], "fc": [r(5, 36), r(5)]},
                        (1, 3, 8, 8), legacy=True)
    assert [n.op for n in graph.nodes] == ["Input", "Conv", "Relu", "LRN", "Pool",
                                           "FullyConnected", "Dropout", "Softmax"]
    assert graph.node("conv1").attrs["_source_op"] == "Convolution"
    assert graph.outputs == ["prob"]


TRAIN_VAL = """
name: "tv"
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TRAIN }
  transform_param { mirror: true crop_size: 8 mean_value: 104 }
  data_param { source: "train_lmdb" batch_size: 32 backend: LMDB } }
layer { name: "data" type: "Data" top: "data" top: "label" include { phase: TEST }
  transform_param { crop_size: 8 } data_param { source: "val_lmdb" batch_size: 10 backend: LMDB } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  param { lr_mult: 1 decay_mult: 1 } param { lr_mult: 2 decay_mult: 0 }
  convolution_param { num_output: 4 kernel_size: 3
    weight_filler { type: "xavier" } bias_filler { type: "constant" value: 0 } } }
layer { name: "fc" type: "InnerProduct" bottom: "conv1" top: "fc"
  inner_product_param { num_output: 3 } }
layer { name: "acc" type: "Accuracy" bottom: "fc" bottom: "label" top: "acc"
  include { phase: TEST } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "fc" bottom: "label" top: "loss" }
"""


def test_train_val_with_input_shape_option(tmp_path):
    opts = {"input_shape": "data:2,3,8,8"}
    graph, _ = compare(tmp_path, TRAIN_VAL, {"conv1": [r(4, 3, 3, 3), r(4)],
                                             "fc": [r(3, 144), r(3)]}, (2, 3, 8, 8),
                       options=opts)
    assert [n.op for n in graph.nodes] == ["Input", "Conv", "FullyConnected"]
    assert graph.node("data").attrs["shape"] == [2, 3, 8, 8]
    assert graph.outputs == ["fc"]
    proto, model = write_model(tmp_path / "p", TRAIN_VAL, {"conv1": [r(4, 3, 3, 3), r(4)],
                                                           "fc": [r(3, 144), r(3)]})
    _, _, progress = to_ir(proto, model, opts)
    text = "\n".join(p.message for p in progress)
    assert "skipped SoftmaxWithLoss layer 'loss'" in text
    assert "skipped Accuracy layer 'acc'" in text
    assert "not in the TEST phase" in text
    fracs = [p.fraction for p in progress if p.stage == "weights"]
    assert fracs[-1] == 1.0


INPUT_LAYER = """
name: "il"
layer { name: "in" type: "Input" top: "data" input_param { shape { dim: 1 dim: 2 dim: 5 dim: 5 } } }
layer { name: "c" type: "Convolution" bottom: "data" top: "c"
  convolution_param { num_output: 3 kernel_size: 1 } }
"""


def test_input_layer(tmp_path):
    graph, _ = compare(tmp_path, INPUT_LAYER, {"c": [r(3, 2, 1, 1), r(3)]}, (1, 2, 5, 5))
    assert graph.node("data").attrs["_source_name"] == "in"


def test_input_shape_option_overrides(tmp_path):
    graph, _ = compare(tmp_path, INPUT_LAYER, {"c": [r(3, 2, 1, 1), r(3)]}, (2, 2, 7, 7),
                       options={"input_shape": "data:2,2,7,7"})
    assert graph.node("c").attrs["_output_shapes"] == [[2, 3, 7, 7]]


def test_inner_product_transpose_against_numpy(tmp_path):
    """Caffe's transpose: the weight blob is [in, out]. (OpenCV's importer ignores the flag,
    so the expectation here is Caffe's formula.)"""
    w, b = r(12, 5), r(5)
    body = """
layer { name: "fc" type: "InnerProduct" bottom: "data" top: "fc"
  inner_product_param { num_output: 5 transpose: true } }"""
    proto, model = write_model(tmp_path, _head((2, 12)) + body, {"fc": [w, b]})
    graph, ws, _ = to_ir(proto, model)
    assert ws["fc.weight"].shape == (5, 12)
    x = np.random.default_rng(3).standard_normal((2, 12)).astype(np.float32)
    got = run_reference(graph, ws, {"data": x})["fc"]
    np.testing.assert_allclose(got, x @ w + b, rtol=1e-5, atol=1e-5)


def test_lrn_k_becomes_bias_and_within_ignores_k(tmp_path):
    """OpenCV's importer ignores Caffe's k (it reads "bias"), so k is checked structurally."""
    body = """
layer { name: "n1" type: "LRN" bottom: "data" top: "n1" lrn_param { local_size: 5 k: 2 } }
layer { name: "n2" type: "LRN" bottom: "n1" top: "n2"
  lrn_param { local_size: 3 k: 2 norm_region: WITHIN_CHANNEL } }"""
    proto, model = write_model(tmp_path, _head((1, 6, 5, 5)) + body, {})
    graph, _, _ = to_ir(proto, model)
    assert graph.node("n1").attrs["bias"] == 2.0 and graph.node("n1").attrs["region"] == "across"
    assert graph.node("n2").attrs["bias"] == 1.0 and graph.node("n2").attrs["region"] == "within"


def test_slice_equal_split_and_legacy_slice_dim(tmp_path):
    """(OpenCV 4.14 fails on a Slice without slice_point, so this one is IR-only.)"""
    body = """
layer { name: "sl" type: "Slice" bottom: "data" top: "a" top: "b" top: "c" }
layer { name: "sl2" type: "Slice" bottom: "a" top: "d" top: "e" slice_param { slice_dim: 2 } }"""
    proto, model = write_model(tmp_path, _head((1, 6, 4, 3)) + body, {})
    graph, ws, _ = to_ir(proto, model)
    assert graph.node("sl").attrs["split"] == [2, 2, 2]
    assert graph.node("sl2").attrs["axis"] == 2 and graph.node("sl2").attrs["split"] == [2, 2]
    x = np.arange(72, dtype=np.float32).reshape(1, 6, 4, 3)
    out = run_reference(graph, ws, {"data": x}, ["sl:1", "sl2:1"])
    np.testing.assert_array_equal(out["sl:1"], x[:, 2:4])
    np.testing.assert_array_equal(out["sl2:1"], x[:, 0:2, 2:4])
