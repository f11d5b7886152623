"""ONNX's Resize node tests with their roi / scales / sizes inputs made initializers (the form
real models have; the float32 node tests, which feed them at run time, are in the conformance
suite), run both ways through the conformance harness: ONNX -> IR -> PyTorch and ONNX -> IR -> ONNX
(backend-onnx's default opset, and the newest opset)."""

from __future__ import annotations

import copy
import dataclasses
import importlib
import warnings

import numpy as np
import pytest

importlib.import_module("onnx")
importlib.import_module("onnxruntime")
importlib.import_module("torch")

from tests.conformance import harness  # noqa: E402

# way -> tests that cannot pass that way, and why (everything else must pass)
REFUSED = {
    "onnx": {  # backend-onnx's default opset 17
        "test_resize_downsample_scales_linear_antialias": "antialias",
        "test_resize_downsample_sizes_linear_antialias": "antialias",
        "test_resize_downsample_scales_cubic_antialias": "antialias",
        "test_resize_downsample_sizes_cubic_antialias": "antialias",
        "test_resize_downsample_scales_linear_half_pixel_symmetric": "half_pixel_symmetric",
        "test_resize_upsample_scales_linear_half_pixel_symmetric": "half_pixel_symmetric",
        "test_resize_downsample_sizes_nearest_not_smaller": "keep_aspect_ratio_policy",
    },
}

# onnxruntime itself differs from ONNX's expected outputs on align_corners with a non-integral
# in * scale (it divides by out - 1, the reference by in * scale - 1): the unconverted node
# tests fail in onnxruntime. backend-onnx writes those as tf_crop_and_resize with sizes, on
# which both agree, so they must pass here too.
ORT_DIFFERS = {"test_resize_downsample_scales_cubic_align_corners",
               "test_resize_downsample_scales_linear_align_corners"}


def frozen_cases() -> list[harness.Case]:
    """Every Resize node test (any dtype of scales/sizes) with its non-X inputs frozen."""
    import onnx
    from onnx import numpy_helper
    from onnx.backend.test.loader import load_model_tests

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tests = [t for t in load_model_tests(kind="node")
                 if t.name.startswith("test_resize") and "_expanded" not in t.name]
    out = []
    for t in sorted(tests, key=lambda t: t.name):
        m = copy.deepcopy(t.model)
        ins, outs = t.data_sets[0]
        keep, feeds = [], []
        for v, arr in zip(list(m.graph.input), ins, strict=True):
            if v.type.tensor_type.elem_type == onnx.TensorProto.FLOAT and v.name == "X":
                keep.append(v)
                feeds.append(np.asarray(arr))
            else:
                m.graph.initializer.append(numpy_helper.from_array(np.asarray(arr), v.name))
        del m.graph.input[:]
        m.graph.input.extend(keep)
        node = m.graph.node[-1]
        out.append(harness.Case(name=t.name, op="Resize", domain="",
                                opset=m.opset_import[0].version, model=m, inputs=feeds,
                                outputs=[np.asarray(o) for o in outs], rtol=float(t.rtol),
                                atol=float(t.atol)))
        assert node.op_type == "Resize"
    return out


CASES = frozen_cases()


@pytest.fixture(scope="module")
def h():
    with harness.Harness() as hh:
        yield hh


def _run_at_opset(h, case, opset: str, suffix: str):
    """The ONNX way with backend-onnx writing at the given opset."""
    be = h.converter("onnx")
    orig = be.from_ir

    def at(graph, weights, options, out_dir):
        return orig(graph, weights, {**options, "opset": opset}, out_dir)

    be.from_ir = at
    try:
        return h.run(dataclasses.replace(case, name=case.name + suffix), "onnx")
    finally:
        be.from_ir = orig


@pytest.mark.parametrize("way", harness.WAYS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_resize_constant(h, case, way):
    if way == "onnx":   # at backend-onnx's default opset 17 (the harness uses the model's)
        r = _run_at_opset(h, case, "17", "_opset17")
    else:
        r = h.run(case, way)
    why = REFUSED.get(way, {}).get(case.name)
    if why is None:
        assert r.passed, r.label
    else:
        assert r.kind == "unsupported" and why in r.reason, r.label


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_resize_constant_newest_opset(h, case):
    """At the newest opset backend-onnx refuses nothing."""
    import onnx

    r = _run_at_opset(h, case, str(onnx.defs.onnx_opset_version()), "_newest")
    assert r.passed, r.label


@pytest.mark.parametrize("name", sorted(ORT_DIFFERS))
def test_onnxruntime_differs_on_the_originals(name):
    """The reason for the rewrite: onnxruntime on the unconverted node test misses ONNX's
    expected output (if it ever agrees, the rewrite can go)."""
    import onnxruntime as ort

    case = next(c for c in CASES if c.name == name)
    sess = ort.InferenceSession(case.model.SerializeToString(),
                                providers=["CPUExecutionProvider"])
    got = sess.run(None, {"X": case.inputs[0]})[0]
    assert got.shape == case.outputs[0].shape
    assert not np.allclose(got, case.outputs[0], rtol=case.rtol, atol=case.atol)
