"""An ONNX model whose Resize takes its scales from a graph input (the resized dims are known
only at run time) through the real gateway, to PyTorch and back to ONNX: verified against
onnxruntime with the gateway's generated inputs (scales in [0.5, 2]), then checked here with
scales of our own, as a user would call the delivered model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.integration.helpers import download, scaled_error, torch_forward, upload

TOLERANCE = 1e-4


def upsampler(path):
    """Conv -> Resize(linear, align_corners, scales = graph input 'scales')."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(3)
    w = (rng.standard_normal((4, 3, 3, 3)) * 0.3).astype(np.float32)
    nodes = [helper.make_node("Conv", ["image", "w"], ["feat"], pads=[1, 1, 1, 1]),
             helper.make_node("Resize", ["feat", "", "scales"], ["out"], mode="linear",
                              coordinate_transformation_mode="align_corners")]
    g = helper.make_graph(
        nodes, "upsampler",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 10, 12]),
         helper.make_tensor_value_info("scales", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 4, None, None])],
        initializer=[numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 19)])
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, str(path))
    return str(path), m


@pytest.mark.integration
@pytest.mark.parametrize("target", ["pytorch", "onnx"])
def test_runtime_scales_through_gateway(s3, bucket, gateway, tmp_path, target):
    import onnxruntime as ort

    path, m = upsampler(tmp_path / "upsampler.onnx")
    src = upload(s3, bucket, f"src-resize-rt/{target}", {"network": path})
    res = gateway.convert("onnx", src, target, f"s3://{bucket}/out-resize-rt/{target}")
    v = res.report["verification"]
    assert res.verified, json.dumps(v, indent=1)[:3000]
    assert v["source_runtime"]["runtime"].startswith("onnxruntime ")
    fed = v["inputs"]["scales"]["distribution"]      # scales a resize means, not N(0, 1)
    assert fed.startswith("Resize scales: [1.0, 1.0, "), fed
    assert all(o["pass"] and o["error_relative_to_scale"] <= TOLERANCE for o in v["outputs"])

    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(5).standard_normal((1, 3, 10, 12)).astype(np.float32)
    names = ["model.py", "weights.pth"] if target == "pytorch" else ["model.onnx"]
    got = download(s3, bucket, f"out-resize-rt/{target}", names, tmp_path)
    shapes = set()
    for scales in ([1, 1, 2, 1.5], [1, 1, 0.5, 0.75], [1, 1, 3, 1]):  # one model, any scales
        s = np.asarray(scales, np.float32)
        ref = sess.run(["out"], {"image": x, "scales": s})[0]
        if target == "pytorch":
            outs, _, _ = torch_forward(got["model.py"], got["weights.pth"], [x, s])
            out = outs[0]
        else:
            conv = ort.InferenceSession(str(got["model.onnx"]),
                                        providers=["CPUExecutionProvider"])
            out = conv.run(None, {"image": x, "scales": s})[0]
        assert out.shape == ref.shape
        assert scaled_error(ref, out) <= TOLERANCE
        shapes.add(ref.shape)
    assert len(shapes) == 3
