"""ONNX -> PyTorch through the whole system: an ONNX ResNet-style model built here with
onnx.helper (random weights), uploaded to a real S3 server (SeaweedFS), converted by the
gateway through frontend-onnx and backend-pytorch (separate processes, own environments, real
gRPC), verified by the gateway against onnxruntime, and checked again here."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.integration.helpers import download, keys, scaled_error, torch_forward, upload

TOLERANCE = 1e-4
OUTPUTS = {"model.py", "weights.pth", "model.torchscript.pt", "report.json"}


def resnet_onnx(path, seed: int = 0, opset: int = 13):
    """A small ResNet: stem conv/bn/relu/maxpool, two basic blocks (one downsampling with a
    1x1 projection), global average pool, flatten, Gemm, Softmax. 21 layers."""
    from onnx import TensorProto, helper, numpy_helper

    g = np.random.default_rng(seed)
    nodes, inits = [], []

    def w(name, *shape, scale=None):
        fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        s = scale if scale is not None else np.sqrt(2.0 / fan_in)
        inits.append(numpy_helper.from_array((g.standard_normal(shape) * s).astype(np.float32),
                                             name))
        return name

    def conv_bn(name, x, cin, cout, k, stride=1, relu=True):
        pad = k // 2
        nodes.append(helper.make_node("Conv", [x, w(f"{name}.w", cout, cin, k, k)],
                                      [f"{name}_conv"], name=f"{name}_conv",
                                      kernel_shape=[k, k], strides=[stride, stride],
                                      pads=[pad] * 4))
        bn = [f"{name}.gamma", f"{name}.beta", f"{name}.mean", f"{name}.var"]
        for n, arr in zip(bn, [g.uniform(0.5, 1.5, cout), g.normal(0, 0.1, cout),
                               g.normal(0, 0.1, cout), g.uniform(0.5, 1.5, cout)],
                          strict=True):
            inits.append(numpy_helper.from_array(arr.astype(np.float32), n))
        nodes.append(helper.make_node("BatchNormalization", [f"{name}_conv", *bn],
                                      [f"{name}_bn"], name=f"{name}_bn", epsilon=1e-5))
        if not relu:
            return f"{name}_bn"
        nodes.append(helper.make_node("Relu", [f"{name}_bn"], [f"{name}_relu"],
                                      name=f"{name}_relu"))
        return f"{name}_relu"

    def block(name, x, cin, cout, stride):
        y = conv_bn(f"{name}a", x, cin, cout, 3, stride)
        y = conv_bn(f"{name}b", y, cout, cout, 3, 1, relu=False)
        short = x if stride == 1 and cin == cout else \
            conv_bn(f"{name}proj", x, cin, cout, 1, stride, relu=False)
        nodes.append(helper.make_node("Add", [y, short], [f"{name}_add"], name=f"{name}_add"))
        nodes.append(helper.make_node("Relu", [f"{name}_add"], [f"{name}_out"],
                                      name=f"{name}_out"))
        return f"{name}_out"

    x = conv_bn("stem", "input", 3, 16, 7, 2)
    nodes.append(helper.make_node("MaxPool", [x], ["pool1"], name="pool1", kernel_shape=[3, 3],
                                  strides=[2, 2], pads=[1, 1, 1, 1]))
    x = block("res1", "pool1", 16, 16, 1)
    x = block("res2", x, 16, 32, 2)
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["gap"], name="gap"))
    nodes.append(helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1))
    nodes.append(helper.make_node("Gemm", ["flat", w("fc.w", 10, 32), w("fc.b", 10, scale=0.1)],
                                  ["logits"], name="fc", transB=1))
    nodes.append(helper.make_node("Softmax", ["logits"], ["prob"], name="prob", axis=1))
    graph = helper.make_graph(
        nodes, "resnet_tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [1, 10])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="nnrosetta-tests")
    m.ir_version = 8
    import onnx

    onnx.checker.check_model(m, full_check=True)
    path.write_bytes(m.SerializeToString())
    return path, m


@pytest.mark.integration
def test_plan_onnx_to_pytorch(gateway):
    plan = gateway.plan("onnx", {}, "pytorch")
    assert [(h.service, h.action) for h in plan.hop] == [("frontend-onnx", "ToIR"),
                                                         ("backend-pytorch", "FromIR")]
    assert plan.verify_with == "frontend-onnx Run vs backend-pytorch Run"
    conv = {c.name: c for c in gateway.converters()}
    assert list(conv["frontend-onnx"].reads) == ["onnx"]
    assert conv["frontend-onnx"].framework == "onnx"


@pytest.mark.integration
def test_onnx_resnet_to_pytorch_matches_onnxruntime(s3, bucket, gateway, tmp_path):
    import onnxruntime as ort

    path, m = resnet_onnx(tmp_path / "resnet_tiny.onnx")
    assert len(m.graph.node) >= 10
    src = upload(s3, bucket, "src-onnx-fe/resnet_tiny", {"network": path})
    events = []
    res = gateway.convert("onnx", src, "pytorch", f"s3://{bucket}/out-onnx-fe/resnet_tiny",
                          on_event=events.append)

    rep = res.report
    v = rep["verification"]
    assert res.verified, json.dumps(v, indent=1)[:3000]
    assert v["status"] == "passed" and v["tolerance"] == TOLERANCE
    assert v["source_runtime"]["runtime"].startswith("onnxruntime "), v["source_runtime"]
    assert v["source_runtime"]["service"] == "frontend-onnx"
    assert v["target_runtime"]["service"] == "backend-pytorch"
    for o in v["outputs"]:
        assert o["pass"] and o["error_relative_to_scale"] <= TOLERANCE, o
        assert o["source_name"] == "prob"
    pre = {o["source_name"]: o for o in v["pre_softmax"]}
    assert "logits" in pre and pre["logits"]["pass"], v["pre_softmax"]
    assert pre["logits"]["error_relative_to_scale"] <= TOLERANCE
    assert [(h["service"], h["action"]) for h in rep["hops"]] == [
        ("frontend-onnx", "ToIR"), ("backend-pytorch", "FromIR")]
    fw = rep["frameworks"]["frontend-onnx"]
    assert fw["framework"] == "onnx" and fw["runtime"].startswith("onnxruntime")
    print("verification:", json.dumps({"outputs": v["outputs"], "pre_softmax": v["pre_softmax"]}))

    prefix = "out-onnx-fe/resnet_tiny"
    assert {k.rsplit("/", 1)[1] for k in keys(s3, bucket, prefix)} == OUTPUTS
    got = download(s3, bucket, prefix, ["model.py", "weights.pth"], tmp_path)

    # independent check here: onnxruntime vs the generated PyTorch code, as a user runs it
    x = np.random.default_rng(5).standard_normal((1, 3, 64, 64)).astype(np.float32)
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    ref = sess.run(["prob"], {"input": x})[0]
    outs, _, _ = torch_forward(got["model.py"], got["weights.pth"], [x])
    assert scaled_error(ref, outs[0].reshape(ref.shape)) <= TOLERANCE
    # log-probabilities: a softmax cannot hide an error there
    lr, lg = np.log(ref.reshape(-1)), np.log(outs[0].reshape(-1))
    assert scaled_error(lr - lr.mean(), lg - lg.mean()) <= TOLERANCE


@pytest.mark.integration
def test_locator_fetches_onnx_intermediates(gateway, tmp_path):
    """An impossible tolerance makes the gateway compare node by node: every IR node's
    ``_source_name`` must be a tensor that onnxruntime can fetch."""
    path, _ = resnet_onnx(tmp_path / "r.onnx", seed=1)
    res = gateway.convert("onnx", {"network": f"file://{path}"}, "pytorch",
                          f"file://{tmp_path / 'out'}", verify={"tolerance": 1e-30})
    assert not res.verified
    div = res.report["verification"]["first_divergence"]
    assert "error" not in div, div
    assert div["node"] and div["source_layer"], div
