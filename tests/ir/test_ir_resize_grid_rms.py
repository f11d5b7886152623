"""Resize, GridSample and RMSNormalization: the NumPy references against onnx.reference (and
the ONNX node tests' expected outputs), over every mode combination."""

from __future__ import annotations

import importlib
import itertools
import warnings

import numpy as np
import pytest
from _ir_check import run_op

from nnrosetta.ir import registry

onnx = importlib.import_module("onnx")
from onnx import helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

RNG = np.random.default_rng(7)


def onnx_ref(op: str, inputs: dict[str, np.ndarray], opset: int, **attrs) -> np.ndarray:
    node = helper.make_node(op, list(inputs), ["Y"], **attrs)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info(k, 1, None)
                                        for k in inputs],
                          [helper.make_tensor_value_info("Y", 1, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    return ReferenceEvaluator(m).run(None, inputs)[0]


# -- RMSNormalization ------------------------------------------------------------------------

@pytest.mark.parametrize("shape,axis,sshape", [((2, 3, 4, 5), -1, (5,)), ((2, 3, 4, 5), 1,
                                                                        (3, 4, 5)),
                                               ((4, 6), 0, (4, 6)), ((2, 3, 4), -2, (1, 4))])
def test_rms_normalization(shape, axis, sshape):
    x = RNG.standard_normal(shape).astype(np.float32)
    s = RNG.standard_normal(sshape).astype(np.float32)
    (y,) = run_op("RMSNormalization", {"axis": axis, "epsilon": 1e-3}, [x, s])
    want = onnx_ref("RMSNormalization", {"X": x, "S": s}, 23, axis=axis, epsilon=1e-3)
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)


def test_rms_normalization_bad_scale():
    with pytest.raises(ValueError, match="broadcast"):
        registry.get("RMSNormalization").infer_fn({"axis": -1, "epsilon": 1e-5},
                                                  [(2, 3), (4,)], {})


# -- Resize -----------------------------------------------------------------------------------

def _node_tests(prefix: str):
    from onnx.backend.test.loader import load_model_tests

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [t for t in load_model_tests(kind="node")
                if t.name.startswith(prefix) and "_expanded" not in t.name]


def _attrs(node) -> dict:
    a = {x.name: helper.get_attribute_value(x) for x in node.attribute}
    return {k: v.decode() if isinstance(v, bytes) else v for k, v in a.items()}


@pytest.mark.parametrize("t", _node_tests("test_resize"), ids=lambda t: t.name)
def test_resize_node_tests(t):
    """Every ONNX Resize node test (scales / sizes / roi as attributes)."""
    node = t.model.graph.node[-1]
    ins, outs = t.data_sets[0]
    feeds = dict(zip([i.name for i in t.model.graph.input], ins, strict=True))
    attrs = _attrs(node)
    for k in ("antialias", "exclude_outside"):
        if k in attrs:
            attrs[k] = bool(attrs[k])
    for i, k in ((1, "roi"), (2, "scales"), (3, "sizes")):
        if i < len(node.input) and node.input[i] in feeds and feeds[node.input[i]].size:
            v = feeds[node.input[i]].reshape(-1)
            attrs[k] = [int(a) for a in v] if k == "sizes" else [float(a) for a in v]
    if attrs.get("coordinate_transformation_mode") != "tf_crop_and_resize":
        attrs.pop("roi", None)
    (y,) = run_op("Resize", attrs, [feeds["X"]])
    np.testing.assert_allclose(y, outs[0], rtol=1e-5, atol=1e-5)


CTMS = ["half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
        "asymmetric", "tf_crop_and_resize"]


@pytest.mark.parametrize("mode,ctm,size_kind", list(itertools.product(
    ["nearest", "linear", "cubic"], CTMS, ["scales", "sizes"])))
def test_resize_vs_onnx_reference(mode, ctm, size_kind):
    x = RNG.standard_normal((1, 2, 5, 7)).astype(np.float32)
    scales = np.array([1, 1, 1.7, 0.6], np.float32)
    sizes = np.array([1, 2, 9, 4], np.int64)
    roi = np.array([0, 0, 0.1, -0.2, 1, 1, 0.83, 1.1], np.float32)  # no ties
    extra = {"exclude_outside": 1, "cubic_coeff_a": -0.5} if mode == "cubic" else {}
    if mode == "nearest":
        extra = {"nearest_mode": "round_prefer_ceil"}
    attrs = {"mode": mode, "coordinate_transformation_mode": ctm, "extrapolation_value": 2.0,
             **extra}
    node = helper.make_node("Resize", ["X", "roi", "scales" if size_kind == "scales" else "",
                                       "sizes" if size_kind == "sizes" else ""], ["Y"], **attrs)
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("X", 1, None)], [
        helper.make_tensor_value_info("Y", 1, None)],
        initializer=[onnx.numpy_helper.from_array(roi, "roi"),
                     onnx.numpy_helper.from_array(scales, "scales"),
                     onnx.numpy_helper.from_array(sizes, "sizes")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 19)])
    want = ReferenceEvaluator(m).run(None, {"X": x})[0]
    ir = dict(attrs, exclude_outside=bool(attrs.get("exclude_outside", 0)))
    ir[size_kind] = [float(v) for v in scales] if size_kind == "scales" else [int(v) for v in
                                                                               sizes]
    if ctm == "tf_crop_and_resize":
        ir["roi"] = [float(v) for v in roi]
    (y,) = run_op("Resize", ir, [x])
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


def _runtime_cases():
    from tests.backend_pytorch._dynamic_cases import RESIZE_RUNTIME

    return sorted(RESIZE_RUNTIME)


@pytest.mark.parametrize("name", _runtime_cases())
def test_resize_runtime_inputs_vs_onnx_reference(name):
    """roi / scales / sizes bound to graph inputs: the IR reference of the same graph, fed two
    different values, against onnx.reference of the ONNX model with those graph inputs."""
    from tests.backend_pytorch._dynamic_cases import RESIZE_RUNTIME, resize_runtime

    g, runs = resize_runtime(name)
    attrs, _, given = RESIZE_RUNTIME[name]
    shapes = registry.infer_shapes(g, annotate=False)
    axes = attrs.get("axes") or range(4)
    assert all((d < 0) == (i in axes) for i, d in enumerate(shapes["n"])), shapes["n"]
    onnx_attrs = {k: int(v) if isinstance(v, bool) else v for k, v in attrs.items()}
    ins = ["X"] + [f"p_{r}" if r in given else "" for r in ("roi", "scales", "sizes")]
    node = helper.make_node("Resize", ins, ["Y"], **onnx_attrs)
    g_in = [helper.make_tensor_value_info("X", 1, None)] + [
        helper.make_tensor_value_info(f"p_{r}", 7 if r == "sizes" else 1, None) for r in given]
    m = helper.make_model(helper.make_graph([node], "g", g_in,
                                            [helper.make_tensor_value_info("Y", 1, None)]),
                          opset_imports=[helper.make_opsetid("", 19)])
    outs = set()
    for feeds in runs:
        got = registry.run_reference(g, {}, feeds)["n"]
        want = ReferenceEvaluator(m).run(None, {"X": feeds["x"], **{
            k: v for k, v in feeds.items() if k != "x"}})[0]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
        outs.add(got.shape)
    assert len(outs) == 2, "the two runs must resize to different shapes"


def test_resize_runtime_output_may_not_be_consumed():
    from nnrosetta.ir.graph import Node
    from tests.backend_pytorch._dynamic_cases import resize_runtime

    g, _ = resize_runtime("nearest_scales")
    g.nodes.append(Node("act", "Relu", ["n"], {}))
    g.outputs = ["act"]
    with pytest.raises(registry.RuntimeDimError, match="known only at run time"):
        registry.infer_shapes(g)
    with pytest.raises(registry.RuntimeDimError):
        registry.shapes_or_annotations(g)      # no fallback to guessed dims


def test_resize_runtime_scales_shape_is_checked():
    schema = registry.get("Resize")
    with pytest.raises(ValueError, match=r"expected \[4\]"):
        schema.infer_fn(schema.with_defaults({"mode": "nearest"}), [(1, 1, 2, 2)],
                        {"scales": (3,)})


def test_resize_needs_one_of_scales_and_sizes():
    with pytest.raises(ValueError, match="exactly one"):
        registry.get("Resize").infer_fn(registry.get("Resize").with_defaults({}), [(1, 1, 2, 2)],
                                        {})


# -- GridSample -------------------------------------------------------------------------------

@pytest.mark.parametrize("t", _node_tests("test_gridsample"), ids=lambda t: t.name)
def test_grid_sample_node_tests(t):
    attrs = _attrs(t.model.graph.node[-1])
    attrs["mode"] = {"bilinear": "linear", "bicubic": "cubic"}.get(attrs.get("mode", "linear"),
                                                                   attrs.get("mode", "linear"))
    if "align_corners" in attrs:
        attrs["align_corners"] = bool(attrs["align_corners"])
    ins, outs = t.data_sets[0]
    (y,) = run_op("GridSample", attrs, list(ins))
    np.testing.assert_allclose(y, outs[0], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("mode,pad,ac,nd", [
    c for c in itertools.product(["linear", "nearest", "cubic"], ["zeros", "border",
                                                                  "reflection"], [0, 1], [2, 3])
    if not (c[0] == "cubic" and c[3] == 3)])
def test_grid_sample_vs_onnx_reference(mode, pad, ac, nd):
    x = RNG.standard_normal([2, 3, *[4, 5, 3][:nd]]).astype(np.float32)
    grid = RNG.uniform(-2.5, 2.5, [2, *[3, 4, 2][:nd], nd]).astype(np.float32)
    grid.reshape(-1)[:6] = [0.5, -1.0, 1.0, 0.25, -0.75, 0.125]
    want = onnx_ref("GridSample", {"X": x, "G": grid}, 22, mode=mode, padding_mode=pad,
                    align_corners=ac)
    (y,) = run_op("GridSample", {"mode": mode, "padding_mode": pad, "align_corners": bool(ac)},
                  [x, grid])
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)
