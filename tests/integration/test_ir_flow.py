"""MMdnn's three-step flow through the services: Caffe -> IR files (toir), IR -> code
(tocode), IR -> model (tomodel), with file:// URIs (the embedded default storage)."""

from __future__ import annotations

import numpy as np
import pytest

from nnrosetta.ir import io as ir_io
from tests.integration.helpers import opencv_forward, scaled_error, torch_forward
from tests.zoo.build import MODELS, build


@pytest.mark.integration
def test_toir_tocode_tomodel(gateway, tmp_path):
    name = "squeezenet11"
    prototxt, caffemodel = build(name)
    ir_dir = tmp_path / "ir"
    res = gateway.convert("caffe", {"network": f"file://{prototxt}",
                                    "weights": f"file://{caffemodel}"}, "ir", f"file://{ir_dir}")
    assert res.verified, res.report["verification"]
    v = res.report["verification"]
    assert v["target_runtime"]["runtime"].startswith("nnrosetta IR reference")
    assert {p.name for p in ir_dir.iterdir()} == {"graph.pb", "graph.json", "weights.npz",
                                                  "report.json"}
    graph, weights = ir_io.load(ir_dir)   # allow_pickle=False inside
    assert graph.metadata["framework"] == "caffe"
    assert all(w.dtype == np.float32 for w in weights.values())

    ir_src = {"network": f"file://{ir_dir}/graph.pb", "weights": f"file://{ir_dir}/weights.npz"}
    code_dir = tmp_path / "code"
    res = gateway.convert("ir", ir_src, "pytorch", f"file://{code_dir}",
                          options={"artifacts": "code"})
    assert res.verified, res.report["verification"]
    assert res.report["verification"]["source_runtime"]["runtime"].startswith(
        "nnrosetta IR reference")
    assert {p.name for p in code_dir.iterdir()} == {"model.py", "weights.pth", "report.json"}

    model_dir = tmp_path / "model"
    res = gateway.convert("ir", ir_src, "pytorch", f"file://{model_dir}",
                          options={"artifacts": "model"})
    assert res.verified, res.report["verification"]
    assert {p.name for p in model_dir.iterdir()} == {"weights.pth", "model.torchscript.pt",
                                                     "report.json"}

    # the code from tocode matches OpenCV on the original Caffe model
    info = MODELS[name]
    feeds = {k: np.random.default_rng(1).standard_normal(s).astype(np.float32)
             for k, s in info.inputs.items()}
    ref = opencv_forward(prototxt, caffemodel, feeds, [info.output])[info.output]
    outs, _, _ = torch_forward(code_dir / "model.py", code_dir / "weights.pth",
                               list(feeds.values()))
    assert scaled_error(ref, outs[0]) <= 1e-4
