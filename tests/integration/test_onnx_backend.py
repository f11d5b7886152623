"""Caffe -> ONNX through the whole system: models in a real S3 server (SeaweedFS), the gateway,
the Caffe frontend and the ONNX backend as separate processes in their own environments, real
gRPC. Each result is verified by the gateway (OpenCV's Caffe runtime vs onnxruntime running
the written model.onnx, and the pre-softmax values through the kept model) and checked again
here with onnxruntime on the files downloaded from S3."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.integration.helpers import download, keys, opencv_forward, scaled_error, upload
from tests.zoo.build import MODELS, build

TOLERANCE = 1e-4
CLASSIC = ["lenet", "alexnet", "vgg16", "resnet50", "googlenet", "squeezenet11", "mobilenet_v1"]
EDGE = ["lenet_v1", "tiny_eltwise", "tiny_slice_concat", "tiny_misc", "tiny_pool_ceil"]
OUTPUTS = {"model.onnx", "model.txt", "report.json"}


@pytest.mark.integration
def test_plan_caffe_to_onnx_has_both_hops(gateway):
    plan = gateway.plan("caffe", {}, "onnx")
    assert [(h.service, h.action) for h in plan.hop] == [("frontend-caffe", "ToIR"),
                                                         ("backend-onnx", "FromIR")]
    assert "backend-onnx" in plan.verify_with
    conv = {c.name: c for c in gateway.converters()}
    assert list(conv["backend-onnx"].writes) == ["onnx"]


@pytest.mark.integration
@pytest.mark.parametrize("name", CLASSIC + EDGE)
def test_caffe_to_onnx_matches_opencv(name, s3, bucket, gateway, tmp_path):
    import onnx
    import onnxruntime as ort

    info = MODELS[name]
    prototxt, caffemodel = build(name)
    src = upload(s3, bucket, f"src-onnx/{name}", {"network": prototxt, "weights": caffemodel})
    events = []
    res = gateway.convert("caffe", src, "onnx", f"s3://{bucket}/onnx/{name}",
                          on_event=events.append)

    # -- the gateway's report -------------------------------------------------------------
    rep = res.report
    v = rep["verification"]
    assert res.verified, v
    assert v["status"] == "passed" and v["tolerance"] == TOLERANCE
    assert v["source_runtime"]["runtime"].startswith("opencv-dnn")
    assert v["target_runtime"]["service"] == "backend-onnx"
    assert v["target_runtime"]["model_files"] == "kept", v["target_runtime"]
    for o in v["outputs"]:
        assert o["pass"] and o["error_relative_to_scale"] <= TOLERANCE, o
    pre = {o["source_name"]: o for o in v["pre_softmax"]}
    assert info.pre_softmax in pre, v["pre_softmax"]
    assert pre[info.pre_softmax]["pass"], pre
    assert [h["action"] for h in rep["hops"]] == ["ToIR", "FromIR"]
    assert {"frontend-caffe", "backend-onnx", "gateway"} <= set(rep["frameworks"])
    assert rep["frameworks"]["backend-onnx"]["framework_version"] == onnx.__version__

    # -- what landed in S3 ----------------------------------------------------------------
    prefix = f"onnx/{name}"
    assert {k.rsplit("/", 1)[1] for k in keys(s3, bucket, prefix)} == OUTPUTS
    got = download(s3, bucket, prefix, ["model.onnx", "model.txt"], tmp_path)
    onnx.checker.check_model(str(got["model.onnx"]), full_check=True)
    assert "opset_import" in got["model.txt"].read_text()

    # -- independent check: OpenCV here vs onnxruntime on the downloaded model -------------
    rng = np.random.default_rng(7)
    feeds = {k: rng.standard_normal(s).astype(np.float32) for k, s in info.inputs.items()}
    ref = opencv_forward(prototxt, caffemodel, feeds, [info.output])
    m = onnx.load(str(got["model.onnx"]), load_external_data=False)
    props = {p.key: p.value for p in m.metadata_props}
    in_names = dict(json.loads(props["nnrosetta.inputs"]))
    sess = ort.InferenceSession(str(got["model.onnx"]), providers=["CPUExecutionProvider"])
    out = sess.run(None, {in_names[k]: a for k, a in feeds.items()})[0]
    assert out.size == ref[info.output].size
    assert scaled_error(ref[info.output], out.reshape(ref[info.output].shape)) <= TOLERANCE
