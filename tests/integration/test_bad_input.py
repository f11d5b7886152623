"""Bad input gets a precise gRPC error listing every problem, nothing is written at the
destination, and the services keep serving."""

from __future__ import annotations

import re

import grpc
import pytest

from nnrosetta.client import ConversionFailed
from tests.integration.helpers import keys, upload
from tests.zoo.build import build


def _lenet_text() -> str:
    prototxt, _ = build("lenet")
    return prototxt.read_text()


def _case_truncated(tmp_path):
    prototxt, caffemodel = build("lenet")
    bad = tmp_path / "lenet.caffemodel"
    data = caffemodel.read_bytes()
    bad.write_bytes(data[: len(data) * 2 // 3])
    return prototxt, bad


def _case_shape_mismatch(tmp_path):
    _, caffemodel = build("lenet")
    p = tmp_path / "lenet.prototxt"
    p.write_text(_lenet_text().replace("num_output: 50", "num_output: 48", 1))
    return p, caffemodel


def _case_unknown_layers(tmp_path):
    _, caffemodel = build("lenet")
    text = _lenet_text()
    extra = "".join(
        f'layer {{\n  name: "{n}"\n  type: "{t}"\n  bottom: "{b}"\n  top: "{n}"\n}}\n'
        for n, t, b in [("mystery1", "FancyNorm", "conv1"), ("mystery2", "Teleport", "conv2"),
                        ("mystery3", "FancyNorm", "ip1")])
    p = tmp_path / "lenet.prototxt"
    p.write_text(text + extra)
    return p, caffemodel


def _case_syntax(tmp_path):
    _, caffemodel = build("lenet")
    lines = _lenet_text().splitlines()
    lines[20] = lines[20] + " {{ oops"
    p = tmp_path / "lenet.prototxt"
    p.write_text("\n".join(lines) + "\n")
    return p, caffemodel


def _case_missing_shape(tmp_path):
    _, caffemodel = build("lenet")
    text = _lenet_text()
    text = re.sub(r'layer \{\n  name: "data"\n  type: "Input".*?\n\}\n', 'input: "data"\n',
                  text, count=1, flags=re.S)
    p = tmp_path / "lenet.prototxt"
    p.write_text(text)
    return p, caffemodel


CASES = {
    # name: (builder, expected codes, expected issue codes, a string the issues must name)
    "truncated": (_case_truncated, {grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.DATA_LOSS},
                  {"TRUNCATED"}, ""),
    "shape_mismatch": (_case_shape_mismatch, {grpc.StatusCode.INVALID_ARGUMENT},
                       {"BAD_SHAPE"}, "conv2"),
    "unknown_layers": (_case_unknown_layers, {grpc.StatusCode.UNIMPLEMENTED},
                       {"UNSUPPORTED_LAYER"}, "mystery3"),
    "syntax": (_case_syntax, {grpc.StatusCode.INVALID_ARGUMENT}, {"SYNTAX"}, ":21"),
    "missing_shape": (_case_missing_shape, {grpc.StatusCode.INVALID_ARGUMENT},
                      {"MISSING_INPUT_SHAPE"}, "data"),
}


@pytest.mark.integration
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input(case, s3, bucket, gateway, tmp_path):
    builder, codes, issue_codes, named = CASES[case]
    prototxt, caffemodel = builder(tmp_path)
    src = upload(s3, bucket, f"bad/{case}", {"network": prototxt, "weights": caffemodel})
    with pytest.raises(ConversionFailed) as e:
        gateway.convert("caffe", src, "pytorch", f"s3://{bucket}/bad-out/{case}")
    err = e.value
    assert err.code in codes, err
    assert issue_codes <= {i.code for i in err.issues}, err
    assert named in " ".join(f"{i.location} {i.message}" for i in err.issues), err
    if case == "unknown_layers":
        locs = {i.location for i in err.issues}
        assert {"mystery1", "mystery2", "mystery3"} <= {loc.split(" ")[0] for loc in locs} or \
            all(any(m in loc for loc in locs) for m in ("mystery1", "mystery2", "mystery3")), err
        assert "Teleport" in str(err) and "FancyNorm" in str(err)
    assert keys(s3, bucket, f"bad-out/{case}") == []
    # the services still answer: a good conversion right after
    prototxt, caffemodel = build("lenet")
    good = upload(s3, bucket, f"after/{case}", {"network": prototxt, "weights": caffemodel})
    res = gateway.convert("caffe", good, "pytorch", f"s3://{bucket}/after-out/{case}")
    assert res.verified


@pytest.mark.integration
def test_gateway_errors_name_the_problem(s3, bucket, gateway):
    prototxt, caffemodel = build("lenet")
    src = upload(s3, bucket, "gw/lenet", {"network": prototxt, "weights": caffemodel})
    with pytest.raises(ConversionFailed) as e:
        gateway.convert("caffe", src, "coreml", f"s3://{bucket}/gw-out/x")
    assert e.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "NO_BACKEND" in {i.code for i in e.value.issues}
    missing = dict(src, weights=f"s3://{bucket}/gw/nope.caffemodel")
    with pytest.raises(ConversionFailed) as e:
        gateway.convert("caffe", missing, "pytorch", f"s3://{bucket}/gw-out/y")
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    assert keys(s3, bucket, "gw-out") == []
    # existing outputs are not overwritten unless asked
    gateway.convert("caffe", src, "pytorch", f"s3://{bucket}/gw-out/z")
    with pytest.raises(ConversionFailed) as e:
        gateway.convert("caffe", src, "pytorch", f"s3://{bucket}/gw-out/z")
    assert e.value.code == grpc.StatusCode.ALREADY_EXISTS
    assert gateway.convert("caffe", src, "pytorch", f"s3://{bucket}/gw-out/z",
                           overwrite=True).verified


@pytest.mark.integration
def test_plan_and_converters(gateway, s3, bucket):
    plan = gateway.plan("caffe", {}, "pytorch")
    assert [(h.service, h.action) for h in plan.hop] == [("frontend-caffe", "ToIR"),
                                                         ("backend-pytorch", "FromIR")]
    assert "frontend-caffe Run vs backend-pytorch Run" == plan.verify_with
    names = {c.name for c in gateway.converters() if c.serving}
    assert {"frontend-caffe", "backend-pytorch"} <= names
