"""backend-onnx with weights computed at run time: the bound IR input is passed to the ONNX
op instead of an initializer; onnxruntime agrees with the IR reference at several opsets;
LayerNormalization's Mean / InvStdDev outputs."""

from __future__ import annotations

import onnx
import pytest

from nnrosetta.ir import registry
from nnrosetta.rpc.converter import Model
from nnrosetta_backend_onnx.service import MODEL_ONNX
from tests.backend_pytorch._dynamic_cases import CASES, feeds

from .test_backend_onnx_emitters import BACKEND, OPSETS, close, convert


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_dynamic_weights_match_reference(case, opset, tmp_path):
    g, w, extra = CASES[case]()
    x = feeds(g, extra)
    ref = registry.run_reference(g, w, x)
    files = convert(g, w, tmp_path, opset=str(opset))
    outs, _ = BACKEND.run(Model(format="onnx", files=files, workdir=str(tmp_path)), x, [])
    assert [k for k, _ in outs] == g.output_refs()
    for k, v in outs:
        close(v, ref[k], rel=1e-4)


def test_bound_inputs_replace_initializers(tmp_path):
    g, w, _ = CASES["conv_bias_only"]()
    m = onnx.load(convert(g, w, tmp_path / "a")[MODEL_ONNX])
    conv = next(n for n in m.graph.node if n.op_type == "Conv")
    assert list(conv.input) == ["x", "n.weight", "p_bias"]
    assert {t.name for t in m.graph.initializer} == {"n.weight"}
    g, w, _ = CASES["clip_max"]()
    m = onnx.load(convert(g, w, tmp_path / "b")[MODEL_ONNX])
    clip = next(n for n in m.graph.node if n.op_type == "Clip")
    assert clip.input[0] == "x" and clip.input[2] == "p_max"


def test_layer_norm_outputs(tmp_path):
    g, w, _ = CASES["layer_norm_stats"]()
    m = onnx.load(convert(g, w, tmp_path / "a", opset="17")[MODEL_ONNX])
    ln = next(n for n in m.graph.node if n.op_type == "LayerNormalization")
    assert len(ln.output) == 3
    g, w, _ = CASES["layer_norm_stats_bound"]()
    m = onnx.load(convert(g, w, tmp_path / "b", opset="17")[MODEL_ONNX])
    ln = next(n for n in m.graph.node if n.op_type == "LayerNormalization")
    assert len(ln.output) == 2 and ln.input[1] == "p_scale"
