"""The zoo loads in OpenCV's Caffe importer and gives sane numbers."""

from __future__ import annotations

import importlib
import math
import shutil

import numpy as np
import pytest
from google.protobuf import text_format

from tests.zoo import nets
from tests.zoo.build import MODELS, build, source_hash
from tests.zoo.weights import blob_header, read_blobs, write_caffemodel

cv2 = importlib.import_module("cv2")
caffe_pb2 = importlib.import_module("nnrosetta.proto.caffe_pb2")

SMALL = [n for n, m in MODELS.items() if not m.slow]


def _models(names=None):
    return [pytest.param(n, marks=pytest.mark.slow) if MODELS[n].slow else n
            for n in (names or MODELS)]


def _load(name: str):
    prototxt, caffemodel = build(name)
    return cv2.dnn.readNetFromCaffe(str(prototxt), str(caffemodel))


def _feed(net, name: str, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    inputs = {k: rng.standard_normal(s).astype(np.float32)
              for k, s in MODELS[name].inputs.items()}
    for k, v in inputs.items():
        net.setInput(v, k)
    return inputs


def test_models_match_builders():
    assert set(MODELS) == set(nets.BUILDERS)
    for name, info in MODELS.items():
        net = nets.spec(name)
        assert {k: net.shapes[k] for k in info.inputs} == info.inputs
        last = net.layers[-1]
        assert (last.name, last.type, last.bottoms) == ("prob", "Softmax", [info.pre_softmax])
        assert nets.BUILDERS[name]().prototxt() == getattr(nets, name)()


@pytest.mark.parametrize("name", list(MODELS))
def test_prototxt_parses(name):
    msg = caffe_pb2.NetParameter()
    text_format.Parse(getattr(nets, name)(), msg)
    net = nets.spec(name)
    layers = msg.layers if net.v1 else msg.layer
    assert [layer.name for layer in layers] == [layer.name for layer in net.layers]
    if net.v1:
        assert not msg.layer
        assert layers[0].type == caffe_pb2.V1LayerParameter.CONVOLUTION


@pytest.mark.parametrize("name", SMALL)
def test_caffemodel_blobs(name):
    net = nets.spec(name)
    blobs = read_blobs(build(name)[1])
    expected = {layer.name: layer.blobs for layer in net.layers if layer.blobs}
    assert set(blobs) == set(expected)
    for layer, specs in expected.items():
        got = blobs[layer]
        assert len(got) == len(specs), layer
        for arr, spec in zip(got, specs, strict=True):
            shape = spec.shape
            if net.v1:  # legacy num/channels/height/width
                shape = (1,) * (4 - len(shape)) + shape
            assert arr.shape == shape, layer
            assert np.isfinite(arr).all()


def test_caffemodel_has_layer_definitions():
    msg = caffe_pb2.NetParameter()
    msg.ParseFromString(build("lenet")[1].read_bytes())
    conv1 = next(layer for layer in msg.layer if layer.name == "conv1")
    assert conv1.type == "Convolution"
    assert list(conv1.bottom) == ["data"] and list(conv1.top) == ["conv1"]
    assert conv1.convolution_param.num_output == 20
    assert [list(b.shape.dim) for b in conv1.blobs] == [[20, 1, 5, 5], [20]]

    msg.ParseFromString(build("lenet_v1")[1].read_bytes())
    assert not msg.layer
    ip1 = next(layer for layer in msg.layers if layer.name == "ip1")
    assert ip1.type == caffe_pb2.V1LayerParameter.INNER_PRODUCT
    assert [(b.num, b.channels, b.height, b.width) for b in ip1.blobs] == [
        (1, 1, 500, 800), (1, 1, 1, 500)]
    assert not ip1.blobs[0].HasField("shape")


def test_batchnorm_scale_factor():
    blobs = read_blobs(build("tiny_misc")[1])
    mean, var, factor = blobs["bn1"]
    assert factor.shape == (1,) and factor[0] == np.float32(999.98)
    effective_var = var / factor[0]
    assert ((effective_var > 0.49) & (effective_var < 1.51)).all()
    assert np.abs(mean / factor[0]).max() < 1.0
    _, _, unit = read_blobs(build("mobilenet_v1")[1])["conv1/bn"]
    assert unit.tolist() == [1.0]


def test_blob_header_matches_protobuf():
    arr = np.arange(6, dtype=np.float32)
    for shape, v1 in (((2, 3), False), ((6,), True), ((), False)):
        raw = blob_header(shape, v1) + arr[: math.prod(shape)].tobytes()
        b = caffe_pb2.BlobProto()
        b.ParseFromString(raw)
        assert list(b.data) == arr[: math.prod(shape)].tolist()
        if v1:
            assert (b.num, b.channels, b.height, b.width) == (1, 1, 1, 6)
        else:
            assert b.HasField("shape") and tuple(b.shape.dim) == shape


def test_build_is_cached_and_deterministic(tmp_path):
    p1, m1 = build("tiny_eltwise", tmp_path / "a")
    stamp = m1.stat().st_mtime_ns
    assert build("tiny_eltwise", tmp_path / "a") == (p1, m1)
    assert m1.stat().st_mtime_ns == stamp
    assert m1.parent.name == f"tiny_eltwise-{source_hash()}"
    p2, m2 = build("tiny_eltwise", tmp_path / "b")
    assert m1.read_bytes() == m2.read_bytes() and p1.read_text() == p2.read_text()
    # Cache entries of an older generator version are pruned.
    stale = tmp_path / "a" / "tiny_eltwise-000000000000"
    stale.mkdir()
    shutil.rmtree(m1.parent)
    build("tiny_eltwise", tmp_path / "a")
    assert not stale.exists() and m1.is_file()


def test_write_caffemodel_counts_floats(tmp_path):
    net = nets.spec("lenet")
    n = write_caffemodel(net, tmp_path / "x.caffemodel", seed=1)
    assert n == sum(math.prod(b.shape) for layer in net.layers for b in layer.blobs)
    assert n == 20 * 25 + 20 + 50 * 20 * 25 + 50 + 500 * 800 + 500 + 10 * 500 + 10


@pytest.mark.parametrize("name", _models())
def test_opencv_forward(name):
    info = MODELS[name]
    net = _load(name)
    _feed(net, name)
    pre, prob = net.forward([info.pre_softmax, info.output])
    assert np.isfinite(pre).all() and np.isfinite(prob).all()
    assert 1e-2 <= float(pre.std()) <= 1e3, f"{info.pre_softmax} std {pre.std()}"
    assert prob.shape == pre.shape
    np.testing.assert_allclose(prob.reshape(prob.shape[0], -1).sum(axis=1), 1.0, rtol=1e-4)


@pytest.mark.parametrize("name", SMALL)
def test_opencv_shapes_match_caffe_inference(name):
    """The builder's shape inference (used for the blob shapes) agrees with OpenCV's."""
    spec = nets.spec(name)
    net = _load(name)
    net.enableFusion(False)
    _feed(net, name)
    # In-place layers share their blob with the producer: check each layer's own tops.
    layers = [layer for layer in spec.layers
              if layer.type != "Input" and layer.tops[0] not in layer.bottoms]
    outs = net.forward([layer.name for layer in layers])
    for layer, out in zip(layers, outs, strict=True):
        assert tuple(out.shape) == spec.shapes[layer.tops[0]], layer.name


def _caffe_pool(x, mode, kernel, stride, pad, global_pooling=False):
    """Caffe's PoolingLayer forward (CPU) for one NCHW array."""
    n, c, h, w = x.shape
    if global_pooling:
        kernel, stride, pad = (h, w), (1, 1), (0, 0)
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, pad
    oh = nets._pool_out(h, kh, sh, ph)
    ow = nets._pool_out(w, kw, sw, pw)
    y = np.zeros((n, c, oh, ow), np.float32)
    for i in range(oh):
        for j in range(ow):
            hs, ws = i * sh - ph, j * sw - pw
            he, we = min(hs + kh, h + ph), min(ws + kw, w + pw)
            size = (he - hs) * (we - ws)
            hs, ws, he, we = max(hs, 0), max(ws, 0), min(he, h), min(we, w)
            win = x[:, :, hs:he, ws:we]
            if mode == "MAX":
                y[:, :, i, j] = win.max(axis=(2, 3))
            else:
                y[:, :, i, j] = win.sum(axis=(2, 3)) / size
    return y


def _hw(p: dict, key: str, default: int) -> tuple[int, int]:
    """(h, w) of a pooling_param geometry field: ``pad``/``stride``/``kernel_size`` or the
    ``_h``/``_w`` pair."""
    both = p.get("kernel_size" if key == "kernel" else key)
    if both is not None:
        return both, both
    return p.get(f"{key}_h", default), p.get(f"{key}_w", default)


def test_opencv_pooling_matches_caffe_rounding():
    """tiny_pool_ceil's pools, computed by OpenCV, equal Caffe's rules (numpy reference)."""
    spec = nets.spec("tiny_pool_ceil")
    net = _load("tiny_pool_ceil")
    net.enableFusion(False)
    _feed(net, "tiny_pool_ceil", seed=3)
    pools = [layer for layer in spec.layers if layer.type == "Pooling"]
    outs = net.forward(["conv"] + [p.name for p in pools])
    x = outs[0]
    for layer, got in zip(pools, outs[1:], strict=True):
        p = layer.params["pooling_param"]
        want = _caffe_pool(x, str(p["pool"]), _hw(p, "kernel", 0), _hw(p, "stride", 1),
                           _hw(p, "pad", 0), p.get("global_pooling", False))
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5, err_msg=layer.name)
