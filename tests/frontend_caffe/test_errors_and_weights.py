"""Bad inputs give the right issues; the fast caffemodel reader agrees with protobuf."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from nnrosetta.proto import caffe_pb2  # noqa: E402
from nnrosetta.rpc.errors import ConversionError  # noqa: E402
from nnrosetta_frontend_caffe import CaffeConverter  # noqa: E402
from nnrosetta_frontend_caffe.caffemodel import CaffeModel  # noqa: E402
from tests.frontend_caffe._nets import model_for, rng_blobs, to_ir, write_model

r = rng_blobs(5)
NET = """name: "n"
input: "data"
input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 4 kernel_size: 3 } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "conv2" type: "Convolution" bottom: "conv1" top: "conv2"
  convolution_param { num_output: 2 kernel_size: 3 } }
layer { name: "fc" type: "InnerProduct" bottom: "conv2" top: "fc"
  inner_product_param { num_output: 3 } }
"""
BLOBS = {"conv1": [r(4, 3, 3, 3), r(4)], "conv2": [r(2, 4, 3, 3), r(2)], "fc": [r(3, 32), r(3)]}


def _check(proto, weights=None, options=None):
    return CaffeConverter().check(model_for(proto, weights, options))


def test_fast_reader_matches_protobuf(tmp_path):
    proto, model = write_model(tmp_path, NET, BLOBS)
    ref = caffe_pb2.NetParameter()
    ref.ParseFromString(model.read_bytes())
    with CaffeModel(model) as cm:
        assert [lay.name for lay in cm.layers] == [lay.name for lay in ref.layer]
        for lay, want in zip(cm.layers, ref.layer, strict=True):
            assert lay.param.type == want.type
            assert list(lay.param.bottom) == list(want.bottom)
            assert len(lay.param.blobs) == 0
            assert len(lay.blobs) == len(want.blobs)
            for b, wb in zip(lay.blobs, want.blobs, strict=True):
                assert b.shape == tuple(wb.shape.dim)
                np.testing.assert_array_equal(b.load(cm.buf).reshape(-1), np.array(wb.data,
                                                                                  np.float32))
    _, ws, _ = to_ir(proto, model)
    np.testing.assert_array_equal(ws["conv2.weight"], BLOBS["conv2"][0])
    np.testing.assert_array_equal(ws["fc.bias"], BLOBS["fc"][1])


def test_fast_reader_legacy_unpacked_double_and_v1(tmp_path):
    """Legacy num/channels/height/width, non-packed floats, double_data, V1 `layers`."""
    net = caffe_pb2.NetParameter(name="x")
    lay = net.layers.add(name="a", type=caffe_pb2.V1LayerParameter.CONVOLUTION)
    b = lay.blobs.add(num=2, channels=1, height=1, width=3)
    b.double_data.extend([1, 2, 3, 4, 5, 6])
    lay2 = net.layer.add(name="b", type="Scale")
    data = net.SerializeToString()
    # a BlobProto with non-packed floats, written by hand: field 5, wire type 5 per value
    vals = np.array([0.5, -1.5, 2.0], np.float32)
    blob = b"".join(b"\x2d" + v.tobytes() for v in vals) + b"\x3a\x02\x08\x03"  # shape {dim:3}
    lay2_bytes = lay2.SerializeToString() + b"\x3a" + bytes([len(blob)]) + blob
    net.ClearField("layer")
    data = net.SerializeToString() + b"\xa2\x06" + bytes([len(lay2_bytes)]) + lay2_bytes
    check = caffe_pb2.NetParameter()
    check.ParseFromString(data)
    assert list(check.layer[0].blobs[0].data) == vals.tolist()
    path = tmp_path / "m.caffemodel"
    path.write_bytes(data)
    with CaffeModel(path) as cm:
        a, bl = cm.layers
        assert a.form == "layers" and a.name == "a"
        assert a.blobs[0].shape == (2, 1, 1, 3) and a.blobs[0].legacy
        np.testing.assert_array_equal(a.blobs[0].load(cm.buf).reshape(-1), np.arange(1, 7))
        assert bl.name == "b" and bl.param.type == "Scale"
        np.testing.assert_array_equal(bl.blobs[0].load(cm.buf), vals)


def test_truncated_caffemodel(tmp_path):
    proto, model = write_model(tmp_path, NET, BLOBS)
    data = model.read_bytes()
    cut = tmp_path / "cut.caffemodel"
    cut.write_bytes(data[: int(len(data) * 0.8)])
    issues, graph = _check(proto, cut)
    assert graph is None
    assert [i.code for i in issues] == ["TRUNCATED"]
    assert "fc" in issues[0].message or "conv2" in issues[0].message
    with pytest.raises(ConversionError) as e:
        to_ir(proto, cut)
    assert e.value.code in (grpc.StatusCode.DATA_LOSS, grpc.StatusCode.INVALID_ARGUMENT)
    assert e.value.issues[0].code == "TRUNCATED"


def test_blob_shape_mismatch(tmp_path):
    bad = dict(BLOBS, conv2=[r(2, 4, 5, 5), r(2)])
    proto, model = write_model(tmp_path, NET, bad)
    issues, _ = _check(proto, model)
    assert [i.code for i in issues] == ["BAD_SHAPE"]
    msg = issues[0].message
    assert issues[0].location == "conv2"
    assert "[2, 4, 5, 5]" in msg and "[2, 4, 3, 3]" in msg and "weight" in msg
    with pytest.raises(ConversionError) as e:
        to_ir(proto, model)
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_unknown_layer_types_all_listed(tmp_path):
    net = NET + """
layer { name: "perm" type: "Permute" bottom: "conv2" top: "perm" }
layer { name: "relu9" type: "ReLU" bottom: "perm" top: "relu9" }
layer { name: "prior" type: "PriorBox" bottom: "perm" bottom: "data" top: "prior" }
layer { name: "mvn" type: "MVN" bottom: "fc" top: "mvn" }
"""
    proto, model = write_model(tmp_path, net, BLOBS)
    issues, graph = _check(proto, model)
    assert graph is None
    got = {(i.code, i.location) for i in issues}
    assert got == {("UNSUPPORTED_LAYER", "perm"), ("UNSUPPORTED_LAYER", "prior"),
                   ("UNSUPPORTED_LAYER", "mvn")}
    assert any("'Permute'" in i.message for i in issues)
    with pytest.raises(ConversionError) as e:
        to_ir(proto, model)
    assert e.value.code == grpc.StatusCode.UNIMPLEMENTED
    assert len(e.value.issues) == 3


def test_syntax_error_has_line_and_column(tmp_path):
    net = NET.replace('num_output: 2 kernel_size: 3', 'num_output: 2 kernel_size 3 }')
    proto, _ = write_model(tmp_path, NET, BLOBS)
    proto.write_text(net)
    issues, graph = _check(proto)
    assert graph is None and len(issues) == 1
    assert issues[0].code == "SYNTAX"
    assert issues[0].location.startswith("net.prototxt:8:")


def test_missing_input_shape(tmp_path):
    net = NET.replace("input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n", "")
    proto, model = write_model(tmp_path, net, BLOBS)
    issues, _ = _check(proto, model)
    assert [i.code for i in issues] == ["MISSING_INPUT_SHAPE"]
    assert "'data'" in issues[0].message and "input_shape" in issues[0].message
    issues, graph = _check(proto, model, {"input_shape": "data:1,3,8,8"})
    assert issues == [] and graph is not None
    issues, _ = _check(proto, model, {"input_shape": "data:1,x"})
    assert [i.code for i in issues] == ["BAD_OPTION"]


def test_check_without_weights_infers_shapes(tmp_path):
    proto, _ = write_model(tmp_path, NET, BLOBS)
    issues, graph = _check(proto)
    assert issues == []
    assert graph.tensors["fc.weight"].shape == (3, 32)
    assert graph.node("fc").attrs["_output_shapes"] == [[1, 3]]


def test_describe():
    d = CaffeConverter().describe()
    assert d["framework"] == "caffe" and d["runtime"].startswith("opencv-dnn ")
    assert {"Convolution", "BatchNorm", "Slice", "Input"} <= set(d["ops_supported"])
    assert set(d["versions"]) == {"numpy", "protobuf", "opencv"}
