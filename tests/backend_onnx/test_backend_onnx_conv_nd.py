"""backend-onnx, Conv / ConvTranspose over 1 and 3 spatial axes (stored weights and weights
bound to run-time inputs): the written model passes onnx.checker (full_check, run by FromIR),
onnxruntime matches the IR NumPy reference at several opsets, and the [] default attributes
are written out per spatial axis."""

from __future__ import annotations

import onnx
import pytest
from onnx import helper

from nnrosetta.ir import registry
from nnrosetta.rpc.converter import Model
from nnrosetta_backend_onnx.service import MODEL_ONNX
from tests.backend_pytorch._cases import feeds
from tests.backend_pytorch._conv_nd_cases import DYNAMIC, STATIC
from tests.backend_pytorch._dynamic_cases import feeds as dynamic_feeds

from .test_backend_onnx_emitters import BACKEND, OPSETS, close, convert


@pytest.mark.parametrize("opset", [13, 17, OPSETS[-1]])
@pytest.mark.parametrize("case", sorted(STATIC))
def test_matches_reference(case, opset, tmp_path):
    g, w = STATIC[case]()
    x = feeds(g)
    ref = registry.run_reference(g, w, x)
    files = convert(g, w, tmp_path, opset=str(opset))
    outs, _ = BACKEND.run(Model(format="onnx", files=files, workdir=str(tmp_path)), x, [])
    assert [k for k, _ in outs] == g.output_refs()
    for k, v in outs:
        close(v, ref[k], rel=1e-4)


@pytest.mark.parametrize("opset", [13, OPSETS[-1]])
@pytest.mark.parametrize("case", sorted(DYNAMIC))
def test_dynamic_weights_match_reference(case, opset, tmp_path):
    g, w, extra = DYNAMIC[case]()
    x = dynamic_feeds(g, extra)
    ref = registry.run_reference(g, w, x)
    files = convert(g, w, tmp_path, opset=str(opset))
    outs, _ = BACKEND.run(Model(format="onnx", files=files, workdir=str(tmp_path)), x, [])
    for k, v in outs:
        close(v, ref[k], rel=1e-4)


def _attrs(case, tmp_path, table=STATIC) -> dict:
    made = table[case]()
    m = onnx.load(convert(made[0], made[1], tmp_path)[MODEL_ONNX])
    n = next(n for n in m.graph.node if n.op_type in ("Conv", "ConvTranspose"))
    return {a.name: helper.get_attribute_value(a) for a in n.attribute}


def test_defaults_written_per_axis(tmp_path):
    a = _attrs("conv1d_stride_dil_group_nobias", tmp_path / "a")
    assert a == {"kernel_shape": [3], "strides": [2], "pads": [0, 0], "dilations": [2],
                 "group": 2}
    a = _attrs("deconv3d", tmp_path / "b")
    assert a["pads"] == [0] * 6 and a["output_padding"] == [0, 0, 0]
    assert a["dilations"] == [1, 1, 1] and a["strides"] == [2, 1, 2]
    a = _attrs("conv2d_defaults", tmp_path / "c")
    assert a == {"kernel_shape": [3, 3], "strides": [1, 1], "pads": [0, 0, 0, 0],
                 "dilations": [1, 1], "group": 1}


def test_bound_weight_is_the_op_input(tmp_path):
    g, w, _ = DYNAMIC["conv1d_weight_bound"]()
    m = onnx.load(convert(g, w, tmp_path)[MODEL_ONNX])
    conv = next(n for n in m.graph.node if n.op_type == "Conv")
    assert list(conv.input)[:2] == ["x", "p_weight"]


def test_4d_spatial_is_reported():
    g, _ = STATIC["conv3d"]()
    g.node("n").attrs["kernel_shape"] = [2, 3, 2, 1]
    assert any("1 to 3 spatial axes" in i.message for i in BACKEND.issues(g, 17))
