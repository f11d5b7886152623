"""Caffe -> PyTorch through the whole system: models in a real S3 server (SeaweedFS), the
gateway, the Caffe frontend and the PyTorch backend as separate processes in their own
environments, real gRPC. Each result is verified by the gateway (OpenCV's Caffe runtime vs the
generated PyTorch model) and checked again here, independently of the gateway's arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from tests.integration.helpers import (
    download,
    keys,
    opencv_forward,
    scaled_error,
    torch_forward,
    upload,
)
from tests.zoo.build import MODELS, build

TOLERANCE = 1e-4
CLASSIC = ["lenet", "alexnet", "vgg16", "googlenet", "resnet50", "squeezenet11", "mobilenet_v1"]
EDGE = ["lenet_v1", "tiny_eltwise", "tiny_slice_concat", "tiny_misc", "tiny_pool_ceil"]
OUTPUTS = {"model.py", "weights.pth", "model.torchscript.pt", "report.json"}


def _convert(name, s3, bucket, gateway, out="out"):
    prototxt, caffemodel = build(name)
    src = upload(s3, bucket, f"src/{name}", {"network": prototxt, "weights": caffemodel})
    events = []
    res = gateway.convert("caffe", src, "pytorch", f"s3://{bucket}/{out}/{name}",
                          on_event=events.append)
    return prototxt, caffemodel, res, events


@pytest.mark.integration
@pytest.mark.parametrize("name", CLASSIC + EDGE)
def test_converts_and_matches_opencv(name, s3, bucket, gateway, tmp_path):
    info = MODELS[name]
    prototxt, caffemodel, res, events = _convert(name, s3, bucket, gateway)

    # -- the gateway's report -------------------------------------------------------------
    rep = res.report
    v = rep["verification"]
    assert res.verified, v
    assert v["status"] == "passed"
    assert v["tolerance"] == TOLERANCE
    assert v["source_runtime"]["runtime"].startswith("opencv-dnn")
    assert v["target_runtime"]["service"] == "backend-pytorch"
    # both Runs used files already on the services' side: the ones kept from ToIR, and the
    # delivered ones by path (the target Run starts as soon as FromIR says they are out)
    assert v["source_runtime"]["model_files"] == "kept", v["source_runtime"]
    assert v["target_runtime"]["model_files"] == "by-path", v["target_runtime"]
    for o in v["outputs"]:
        assert o["pass"] and o["error_relative_to_scale"] <= TOLERANCE, o
    # both delivered forms verified: model.py + weights.pth (above), the TorchScript file
    forms = {f["run_options"].get("use"): f for f in v["forms"]}
    assert list(forms) == ["eager", "torchscript"], v["forms"]
    ts = forms["torchscript"]
    assert ts["status"] == "passed" and ts["target_runtime"]["mode"] == "torchscript", ts
    for o in ts["outputs"]:
        assert o["pass"] and o["error_relative_to_scale"] <= TOLERANCE, o
    pre = {o["source_name"]: o for o in v["pre_softmax"]}
    assert info.pre_softmax in pre, v["pre_softmax"]
    assert pre[info.pre_softmax]["pass"], pre
    assert pre[info.pre_softmax]["error_relative_to_scale"] <= TOLERANCE
    assert [h["action"] for h in rep["hops"]] == ["ToIR", "FromIR"]
    # one machine: files went by path through the stack's shared folder, not as bytes
    assert [h["transport"] for h in rep["hops"]] == ["shared-folder", "shared-folder"]
    assert {"frontend-caffe", "backend-pytorch", "gateway"} <= set(rep["frameworks"])
    assert rep["frameworks"]["backend-pytorch"]["framework_version"].startswith("2.13.0")
    kinds = {e.WhichOneof("event") for e in events}
    assert kinds == {"plan", "progress", "result"}

    # -- what landed in S3 ----------------------------------------------------------------
    prefix = f"out/{name}"
    assert {k.rsplit("/", 1)[1] for k in keys(s3, bucket, prefix)} == OUTPUTS
    got = download(s3, bucket, prefix, ["model.py", "weights.pth"], tmp_path)

    # -- independent check: OpenCV here vs the generated code loaded as a user would -------
    rng = np.random.default_rng(7)
    feeds = {k: rng.standard_normal(s).astype(np.float32) for k, s in info.inputs.items()}
    ref = opencv_forward(prototxt, caffemodel, feeds, [info.output])
    outs, model, mod = torch_forward(got["model.py"], got["weights.pth"], list(feeds.values()))
    assert outs[0].shape == ref[info.output].shape or outs[0].size == ref[info.output].size
    assert scaled_error(ref[info.output], outs[0]) <= TOLERANCE
    # log-probabilities are logits up to a constant: a softmax cannot hide an error there
    p_ref, p_got = ref[info.output].reshape(-1), outs[0].reshape(-1)
    if p_ref.min() > 1e-30 and p_got.min() > 1e-30:
        lr, lg = np.log(p_ref), np.log(p_got)
        assert scaled_error(lr - lr.mean(), lg - lg.mean()) <= TOLERANCE


@pytest.mark.integration
def test_generated_model_trains(s3, bucket, gateway, tmp_path):
    """Fine-tuning is the point: train mode (Dropout, BatchNorm) and gradients work."""
    import torch

    _, _, res, _ = _convert("mobilenet_v1", s3, bucket, gateway, out="train")
    got = download(s3, bucket, "train/mobilenet_v1", ["model.py", "weights.pth"], tmp_path)
    _, model, _ = torch_forward(got["model.py"], got["weights.pth"],
                                [np.zeros((1, 3, 224, 224), np.float32)])
    model.train()
    bn = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert bn, "BatchNorm layers are real BatchNorm2d modules"
    before = bn[0].running_mean.clone()
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    x = torch.randn(2, 3, 224, 224)
    out = model(x)
    loss = out.float().pow(2).mean() if out.dim() else out
    loss.backward()
    opt.step()
    assert not torch.equal(before, bn[0].running_mean), "train mode updates running stats"
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
