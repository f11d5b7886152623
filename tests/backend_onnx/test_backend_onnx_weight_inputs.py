"""backend-onnx with weights computed at run time: the bound IR input is passed to the ONNX
op instead of an initializer; onnxruntime agrees with the IR reference at several opsets;
LayerNormalization's Mean / InvStdDev outputs."""

from __future__ import annotations

import onnx
import pytest

from nnrosetta.ir import registry
from nnrosetta.rpc.converter import Model
from nnrosetta_backend_onnx.service import MODEL_ONNX
from tests.backend_pytorch._dynamic_cases import CASES, RESIZE_RUNTIME, feeds, resize_runtime

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


def _needs_opset(name: str) -> int:
    attrs = RESIZE_RUNTIME[name][0]
    if attrs.get("coordinate_transformation_mode") == "half_pixel_symmetric":
        return 19
    if attrs.get("axes") or attrs.get("antialias") or attrs.get("keep_aspect_ratio_policy"):
        return 18
    return 13


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("name", sorted(RESIZE_RUNTIME))
def test_resize_runtime_inputs(name, opset, tmp_path):
    """Scales / sizes / roi fed at run time stay inputs of the ONNX Resize: onnxruntime
    resizes by whatever values it is given, as the IR reference does (align_corners through
    tf_crop_and_resize, where onnxruntime's own align_corners differs from ONNX's reference);
    attributes that older opsets lack are refused with the opset that has them."""
    g, runs = resize_runtime(name)
    issues = BACKEND.issues(g, opset)
    if opset < _needs_opset(name):
        assert issues and "opset >= 1" in str(issues), issues
        return
    assert issues == []
    files = convert(g, {}, tmp_path, opset=str(opset))
    m = onnx.load(files[MODEL_ONNX])
    onnx.checker.check_model(m, full_check=True)
    assert not m.graph.initializer or all(t.name.startswith("n.") for t in m.graph.initializer)
    shapes = set()
    for x in runs:
        ref = registry.run_reference(g, {}, x)["n"]
        outs, _ = BACKEND.run(Model(format="onnx", files=files, workdir=str(tmp_path)), x, [])
        close(outs[0][1], ref, rel=1e-5)
        shapes.add(ref.shape)
    assert len(shapes) == 2


@pytest.mark.parametrize("name", sorted(RESIZE_RUNTIME))
def test_resize_constant_inputs(name, tmp_path):
    """The same Resize cases with their (first) values as IR attributes: onnxruntime matches
    the IR reference too (align_corners and tf_crop_and_resize with scales are written with
    sizes, where onnxruntime and ONNX's reference would differ)."""
    from nnrosetta.ir.graph import Graph, Node

    attrs, x_shape, given = RESIZE_RUNTIME[name]
    a = {**attrs, **{r: [int(v) if r == "sizes" else float(v) for v in vals[0]]
                     for r, vals in given.items()}}
    g = Graph([Node("x", "Input", [], {"shape": list(x_shape)}), Node("n", "Resize", ["x"], a)],
              ["n"], {})
    x = {"x": resize_runtime(name)[1][0]["x"]}
    ref = registry.run_reference(g, {}, x)["n"]
    files = convert(g, {}, tmp_path, opset="19")
    outs, _ = BACKEND.run(Model(format="onnx", files=files, workdir=str(tmp_path)), x, [])
    close(outs[0][1], ref, rel=1e-5)
