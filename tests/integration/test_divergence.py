"""When source and target disagree, the conversion fails its verification, writes nothing,
and the report names the first IR node whose output diverges.

The disagreement here is real, not injected: Caffe's LRN computes x / (k + alpha/n * sum)^beta
and the frontend keeps k, but OpenCV's Caffe importer ignores k (it always uses 1). With k=2
the two runtimes part ways exactly at the LRN layer, and the locator must say so."""

from __future__ import annotations

import json

import pytest

from tests.zoo import nets, weights


def _lrn_net(folder):
    net = nets.Net("lrn_k2")
    x = net.input("data", (1, 4, 9, 9))
    x = net.conv("conv1", x, 6, 3, pad=1)
    x = net.relu("relu1", x)
    x = net.lrn("norm1", x, local_size=3, alpha=0.5, beta=0.75, k=2.0)
    x = net.conv("conv2", x, 5, 3)
    x = net.fc("ip", x, 7)
    net.softmax("prob", x)
    proto, model = folder / "lrn_k2.prototxt", folder / "lrn_k2.caffemodel"
    proto.write_text(net.prototxt())
    weights.write_caffemodel(net, model, seed=3)
    return proto, model


@pytest.mark.integration
def test_report_names_first_diverging_node(gateway, tmp_path):
    proto, model = _lrn_net(tmp_path)
    out = tmp_path / "out"
    res = gateway.convert("caffe", {"network": f"file://{proto}", "weights": f"file://{model}"},
                          "pytorch", f"file://{out}")
    assert not res.verified
    v = res.report["verification"]
    assert v["status"] == "failed"
    div = v["first_divergence"]
    assert div["node"] == "norm1", json.dumps(div, indent=1)
    assert div["op"] == "LRN"
    assert div["comparison"]["error_relative_to_scale"] > v["tolerance"]
    assert res.outputs == []
    assert not out.exists() or not any(out.iterdir())
