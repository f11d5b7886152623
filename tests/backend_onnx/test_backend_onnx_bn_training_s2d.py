"""backend-onnx: BatchNormTraining (BatchNormalization training_mode=1 from opset 14, composed
below) and SpaceToDepth's mode (native CRD from opset 28, Reshape / Transpose below): the
written model passes onnx.checker and onnxruntime agrees with the IR NumPy reference."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from nnrosetta.ir import registry
from nnrosetta.rpc.converter import Model
from nnrosetta_backend_onnx import build
from nnrosetta_backend_onnx.service import MODEL_ONNX
from tests.backend_pytorch.test_backend_pytorch_bn_training_s2d import CASES

from ._cases import feeds
from .test_backend_onnx_emitters import BACKEND, close, convert

OPSETS = [13, 14, 17, 18, 27, build.max_opset()]


def _ops(files) -> list[str]:
    return [n.op_type for n in onnx.load(files[MODEL_ONNX]).graph.node]


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_reference(case, opset, tmp_path):
    g, w = CASES[case]()
    x = feeds(g)
    ref = registry.run_reference(g, w, x)
    files = convert(g, w, tmp_path, opset=str(opset))
    outs, _ = BACKEND.run(Model(format="onnx", files=files, workdir=str(tmp_path)), x, [])
    assert [k for k, _ in outs] == g.output_refs()
    for k, v in outs:
        close(v, ref[k], rel=1e-5)
    ops = _ops(files)
    if case.startswith("bn_train"):
        bns = [n for n in onnx.load(files[MODEL_ONNX]).graph.node
               if n.op_type == "BatchNormalization"]
        assert len(bns) == 1
        training = {a.name: a.i for a in bns[0].attribute}.get("training_mode", 0)
        assert training == (1 if opset >= 14 else 0)
        if opset < 14:
            assert "ReduceMean" in ops
    elif case in ("s2d_crd", "s2d_crd_b3"):
        assert ("SpaceToDepth" in ops) == (opset >= 28), ops
    else:
        assert ops == ["SpaceToDepth"]


def test_crd_mode_attribute_written_at_28(tmp_path):
    g, w = CASES["s2d_crd"]()
    files = convert(g, w, tmp_path, opset="28")
    (n,) = onnx.load(files[MODEL_ONNX]).graph.node
    assert {a.name: a.s for a in n.attribute}["mode"] == b"CRD"
    g, w = CASES["s2d_dcr"]()
    files = convert(g, w, tmp_path / "dcr", opset="28")
    (n,) = onnx.load(files[MODEL_ONNX]).graph.node
    assert "mode" not in {a.name for a in n.attribute}          # DCR is the default


def test_training_momentum_is_onnx_style(tmp_path):
    g, w = CASES["bn_train"]()              # IR momentum 0.2 (PyTorch's meaning)
    files = convert(g, w, tmp_path, opset="17")
    (n,) = [n for n in onnx.load(files[MODEL_ONNX]).graph.node
            if n.op_type == "BatchNormalization"]
    attrs = {a.name: a for a in n.attribute}
    assert abs(attrs["momentum"].f - 0.8) < 1e-6 and abs(attrs["epsilon"].f - 1e-3) < 1e-9
    assert len(n.output) == 3


def test_unread_running_stats_are_not_graph_outputs(tmp_path):
    """ONNX wants all three outputs named in training mode; unread ones stay internal."""
    g, w = CASES["bn_train_y_only"]()
    files = convert(g, w, tmp_path, opset="17")
    m = onnx.load(files[MODEL_ONNX])
    (n,) = m.graph.node
    assert len(n.output) == 3 and [o.name for o in m.graph.output] == [n.output[0]]
    assert np.isclose({a.name: a.f for a in n.attribute}["epsilon"], 1e-3)
