"""frontend-onnx: parameters computed at run time (graph inputs, or outputs of other nodes)
become IR weights bound to inputs instead of a DYNAMIC_INPUT error; constants stay stored
weights. LayerNormalization's Mean / InvStdDev outputs."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from nnrosetta.ir import registry

from ._models import init, make, ort_run, rng, scaled_error, to_ir

R = rng(3)


def _compare(m, tmp, feeds, tol=1e-5):
    graph, weights = to_ir(m, tmp)
    assert registry.validate(graph) == [], registry.validate(graph)
    ir_feeds = {n.name: feeds[n.attrs["_source_name"]] for n in graph.inputs}
    got = registry.run_reference(graph, weights, ir_feeds)
    want = ort_run(m, feeds)
    for ref, o in zip(graph.outputs, m.graph.output, strict=True):
        assert got[ref].shape == want[o.name].shape, (o.name, got[ref].shape)
        assert scaled_error(want[o.name], got[ref]) <= tol, o.name
    return graph, weights


def _node(graph, op):
    return next(n for n in graph.nodes if n.op == op)


@pytest.mark.parametrize("bias", ["input", "const", "none"])
def test_conv_runtime_weight(bias, tmp_path):
    ins = ["x", "W"] + (["B"] if bias != "none" else [])
    nd = helper.make_node("Conv", ins, ["y"], pads=[1, 0, 1, 1], strides=[2, 1])
    inputs = {"x": [1, 4, 7, 6], "W": [5, 4, 3, 3]}
    inits, feeds = [], {"x": R(1, 4, 7, 6), "W": R(5, 4, 3, 3)}
    if bias == "input":
        inputs["B"] = [5]
        feeds["B"] = R(5)
    elif bias == "const":
        inits.append(init("B", R(5)))
    m = make([nd], inputs, {"y": None}, inits)
    graph, weights = _compare(m, tmp_path, feeds)
    conv = _node(graph, "Conv")
    assert registry.bound_inputs(conv) == ({"weight": "W", "bias": "B"} if bias == "input"
                                           else {"weight": "W"})
    assert list(weights) == ([f"{conv.name}.bias"] if bias == "const" else [])


def test_conv_const_weight_runtime_bias(tmp_path):
    nd = helper.make_node("Conv", ["x", "W", "B"], ["y"])
    m = make([nd], {"x": [1, 2, 5, 5], "B": [3]}, {"y": None}, [init("W", R(3, 2, 3, 3))])
    graph, weights = _compare(m, tmp_path, {"x": R(1, 2, 5, 5), "B": R(3)})
    conv = _node(graph, "Conv")
    assert conv.attrs["weight_inputs"] == ["bias"] and conv.inputs[1] == "B"
    assert list(weights) == [f"{conv.name}.weight"]


def test_conv_weight_from_another_node(tmp_path):
    nodes = [helper.make_node("Relu", ["W"], ["w_relu"]),
             helper.make_node("Conv", ["x", "w_relu"], ["y"], group=2)]
    m = make(nodes, {"x": [2, 4, 6, 6], "W": [4, 2, 3, 3]}, {"y": None})
    _compare(m, tmp_path, {"x": R(2, 4, 6, 6), "W": R(4, 2, 3, 3)})


@pytest.mark.parametrize("out_shape", [None, [10, 8]])
def test_conv_transpose_runtime_weight(out_shape, tmp_path):
    attrs = {"strides": [3, 2]}
    if out_shape:
        attrs["output_shape"] = out_shape
    nd = helper.make_node("ConvTranspose", ["x", "W", "B"], ["y"], **attrs)
    m = make([nd], {"x": [1, 1, 3, 3], "W": [1, 2, 3, 3], "B": [2]}, {"y": None})
    graph, _ = _compare(m, tmp_path, {"x": R(1, 1, 3, 3), "W": R(1, 2, 3, 3), "B": R(2)})
    assert set(registry.bound_inputs(_node(graph, "ConvTranspose"))) == {"weight", "bias"}


def test_batch_norm_runtime_parameters(tmp_path):
    nd = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)
    m = make([nd], {"x": [2, 3, 4, 5], "s": [3], "b": [3], "v": [3]}, {"y": None},
             [init("m", R(3))], opset=15)
    feeds = {"x": R(2, 3, 4, 5), "s": R(3), "b": R(3), "v": np.abs(R(3)) + 0.5}
    graph, weights = _compare(m, tmp_path, feeds)
    bn = _node(graph, "BatchNorm")
    assert bn.attrs["weight_inputs"] == ["scale", "bias", "var"]
    assert list(weights) == [f"{bn.name}.mean"]


@pytest.mark.parametrize("slope_shape", [[5], [3, 4, 5], [4, 1], [1]])
def test_prelu_runtime_slope(slope_shape, tmp_path):
    nd = helper.make_node("PRelu", ["x", "slope"], ["y"])
    m = make([nd], {"x": [3, 4, 5], "slope": slope_shape}, {"y": None}, opset=16)
    _compare(m, tmp_path, {"x": R(3, 4, 5), "slope": R(*slope_shape)})


@pytest.mark.parametrize("which", [("min", "max"), ("min",), ("max",)])
def test_clip_runtime_bounds(which, tmp_path):
    ins = ["x", "min" if "min" in which else "", "max" if "max" in which else ""]
    while ins[-1] == "":
        ins.pop()
    nd = helper.make_node("Clip", ins, ["y"])
    inputs = {"x": [3, 5], **{k: [] for k in which}}
    feeds = {"x": R(3, 5), **{k: np.array(v, np.float32) for k, v in
                              (("min", -0.2), ("max", 0.4)) if k in which}}
    m = make([nd], inputs, {"y": None}, opset=13)
    graph, _ = _compare(m, tmp_path, feeds)
    assert set(registry.bound_inputs(_node(graph, "Clip"))) == set(which)


def test_clip_min_greater_than_max(tmp_path):
    nd = helper.make_node("Clip", ["x", "lo", "hi"], ["y"])
    m = make([nd], {"x": [4], "lo": [], "hi": []}, {"y": None}, opset=13)
    _compare(m, tmp_path, {"x": R(4), "lo": np.array(1.0, np.float32),
                           "hi": np.array(0.5, np.float32)})


def test_instance_and_group_norm_runtime(tmp_path):
    nodes = [helper.make_node("InstanceNormalization", ["x", "s", "b"], ["i"], epsilon=1e-3),
             helper.make_node("GroupNormalization", ["i", "gs", "gb"], ["y"], num_groups=2)]
    m = make(nodes, {"x": [2, 4, 3, 5], "s": [4], "b": [4], "gs": [2], "gb": [2]},
             {"y": None}, opset=18)
    feeds = {"x": R(2, 4, 3, 5), "s": R(4), "b": R(4), "gs": R(2), "gb": R(2)}
    graph, _ = _compare(m, tmp_path, feeds, tol=1e-4)
    assert [n.op for n in graph.nodes].count("Expand") == 2   # per group -> per channel


@pytest.mark.parametrize("axis", [-1, 1, 0])
def test_layer_norm_runtime_scale_and_stats(axis, tmp_path):
    nd = helper.make_node("LayerNormalization", ["x", "s", "b"], ["y", "mean", "inv"],
                          axis=axis, epsilon=1e-3)
    rank_shape = [2, 3, 4]
    norm = rank_shape[axis % 3:]
    m = make([nd], {"x": rank_shape, "s": norm, "b": norm[-1:]},
             {"y": None, "mean": None, "inv": None})
    feeds = {"x": R(*rank_shape), "s": R(*norm), "b": R(*norm[-1:])}
    graph, _ = _compare(m, tmp_path, feeds)
    ln = _node(graph, "LayerNormalization")
    assert ln.attrs["num_outputs"] == 3
    assert graph.outputs == [ln.name, f"{ln.name}:1", f"{ln.name}:2"]


def test_layer_norm_only_y_keeps_one_output(tmp_path):
    nd = helper.make_node("LayerNormalization", ["x", "s"], ["y", "mean"])
    m = make([nd], {"x": [2, 6]}, {"y": None}, [init("s", R(6))])
    graph, _ = _compare(m, tmp_path, {"x": R(2, 6)})
    assert "num_outputs" not in _node(graph, "LayerNormalization").attrs


@pytest.mark.parametrize("ctm", ["half_pixel", "align_corners", "tf_crop_and_resize"])
def test_resize_runtime_scales(ctm, tmp_path):
    """Scales (and roi) fed at run time are bound to the Resize's inputs; the resized dims are
    -1 in the IR, and the IR reference matches ONNX's reference evaluator for two different
    scales (onnxruntime sizes a tf_crop_and_resize output by its roi, unlike the spec)."""
    from onnx.reference import ReferenceEvaluator

    crop = ctm == "tf_crop_and_resize"
    nd = helper.make_node("Resize", ["x", "roi" if crop else "", "scales"], ["y"], mode="linear",
                          coordinate_transformation_mode=ctm)
    inputs = {"x": [1, 2, 6, 8], "scales": [4], **({"roi": [8]} if crop else {})}
    m = make([nd], inputs, {"y": [1, 2, None, None]}, opset=19)
    roi = np.array([0, 0, 0.1, 0.2, 1, 1, 0.9, 0.7], np.float32)
    graph, weights = to_ir(m, tmp_path)
    assert registry.validate(graph) == [], registry.validate(graph)
    for scales in ([1, 1, 2, 0.5], [1, 1, 0.75, 1.5]):
        feeds = {"x": R(1, 2, 6, 8), "scales": np.array(scales, np.float32),
                 **({"roi": roi} if crop else {})}
        ir_feeds = {n.name: feeds[n.attrs["_source_name"]] for n in graph.inputs}
        (got,) = registry.run_reference(graph, weights, ir_feeds).values()
        want = ReferenceEvaluator(m).run(None, feeds)[0]
        assert got.shape == want.shape
        assert scaled_error(want, got) <= 1e-5
    n = _node(graph, "Resize")
    assert set(registry.bound_inputs(n)) == ({"roi", "scales"} if crop else {"scales"})
    assert n.attrs["_output_shapes"] == [[-1, -1, -1, -1]]    # every dim's scale is an input


def test_resize_runtime_scales_output_consumed(tmp_path):
    """A node after a run-time Resize cannot be laid out: one clear error, no partial IR."""
    from nnrosetta.rpc.converter import ConversionError

    nds = [helper.make_node("Resize", ["x", "", "scales"], ["r"], mode="nearest"),
           helper.make_node("Relu", ["r"], ["y"])]
    m = make(nds, {"x": [1, 1, 4, 4], "scales": [4]}, {"y": None}, opset=19)
    with pytest.raises(ConversionError) as err:
        to_ir(m, tmp_path)
    text = str(err.value) + str(getattr(err.value, "issues", ""))
    assert "known only at run time" in text and "BAD_SHAPE" in text, text
