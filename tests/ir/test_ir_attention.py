"""IR Attention: the NumPy reference against onnx.reference's Attention (opset 23 / 25)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from _ir_check import close, run_op

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node

onnx = importlib.import_module("onnx")
from onnx import TensorProto, helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

OUT_NAMES = ["Y", "present_key", "present_value", "qk_matmul_output"]


def onnx_attention(inputs: dict[str, np.ndarray | None], attrs: dict, n_out: int,
                   opset: int = 23) -> list[np.ndarray]:
    """Run ONNX's own reference implementation of one Attention node."""
    order = ["Q", "K", "V", "attn_mask", "past_key", "past_value"]
    names = [k if inputs.get(k) is not None else "" for k in order]
    while names and not names[-1]:
        names.pop()
    outs = OUT_NAMES[:n_out]
    onnx_attrs = {k: (int(v) if isinstance(v, bool) else v) for k, v in attrs.items()
                  if k != "num_outputs"}
    node = helper.make_node("Attention", names, outs, **onnx_attrs)
    vi = [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(inputs[n].shape))
          for n in names if n]
    graph = helper.make_graph([node], "g", vi,
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, None)
                               for o in outs])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return ReferenceEvaluator(model).run(None, {n: inputs[n] for n in names if n})


def ir_inputs(inputs: dict[str, np.ndarray | None]) -> list[np.ndarray]:
    out = [inputs["Q"], inputs["K"], inputs["V"]]
    if inputs.get("attn_mask") is not None:
        out.append(inputs["attn_mask"])
    if inputs.get("past_key") is not None:
        out += [inputs["past_key"], inputs["past_value"]]
    return out


def make(rng, *, b=2, hq=3, hkv=3, sq=4, sk=6, d=8, dv=8, three_d=False, mask=None,
         past=0) -> dict[str, np.ndarray | None]:
    f = np.float32
    if three_d:
        q = rng.standard_normal((b, sq, hq * d)).astype(f)
        k = rng.standard_normal((b, sk, hkv * d)).astype(f)
        v = rng.standard_normal((b, sk, hkv * dv)).astype(f)
    else:
        q = rng.standard_normal((b, hq, sq, d)).astype(f)
        k = rng.standard_normal((b, hkv, sk, d)).astype(f)
        v = rng.standard_normal((b, hkv, sk, dv)).astype(f)
    out = {"Q": q, "K": k, "V": v, "attn_mask": None, "past_key": None, "past_value": None}
    if mask is not None:
        out["attn_mask"] = rng.standard_normal(mask).astype(f)
    if past:
        out["past_key"] = rng.standard_normal((b, hkv, past, d)).astype(f)
        out["past_value"] = rng.standard_normal((b, hkv, past, dv)).astype(f)
    return out


CASES = {
    "4d": ({}, {}),
    "4d_mask_2d": ({"mask": (4, 6)}, {}),
    "4d_mask_4d_causal": ({"mask": (2, 1, 4, 6)}, {"is_causal": True}),
    "4d_causal": ({}, {"is_causal": True}),
    "4d_scale_softcap": ({}, {"scale": 0.3, "softcap": 2.0}),
    "4d_gqa": ({"hq": 6, "hkv": 2}, {}),
    "4d_diff_v": ({"dv": 5}, {}),
    "4d_past_causal": ({"past": 3}, {"is_causal": True, "num_outputs": 3}),
    "4d_past_short_mask": ({"past": 5, "mask": (4, 7)}, {"num_outputs": 3}),
    "4d_qk_mode0": ({"mask": (4, 6)}, {"num_outputs": 4}),
    "4d_qk_mode2": ({"mask": (4, 6)}, {"qk_matmul_output_mode": 2, "num_outputs": 4}),
    "4d_qk_mode3_softcap": ({"mask": (4, 6)}, {"qk_matmul_output_mode": 3, "softcap": 1.5,
                                               "num_outputs": 4}),
    "4d_softmax_double": ({}, {"softmax_precision": 11}),
    "3d": ({"three_d": True}, {"q_num_heads": 3, "kv_num_heads": 3}),
    "3d_gqa_past_mask": ({"three_d": True, "hq": 4, "hkv": 2, "past": 2, "mask": (4, 8)},
                         {"q_num_heads": 4, "kv_num_heads": 2, "num_outputs": 4,
                          "qk_matmul_output_mode": 2}),
    "3d_causal_diff_v": ({"three_d": True, "dv": 3}, {"q_num_heads": 3, "kv_num_heads": 3,
                                                      "is_causal": True}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_attention_matches_onnx_reference(case):
    shape_kw, attrs = CASES[case]
    rng = np.random.default_rng(sorted(CASES).index(case))
    inputs = make(rng, **shape_kw)
    n_out = attrs.get("num_outputs", 1)
    got = run_op("Attention", attrs, ir_inputs(inputs))
    want = onnx_attention(inputs, attrs, n_out)
    assert len(got) == len(want) == n_out
    for g, w in zip(got, want, strict=True):
        close(g, w)


@pytest.mark.parametrize("attrs", [
    {"is_causal": True, "left_window_size": 2},
    {"left_window_size": 1, "right_window_size": 1},
    {"right_window_size": 0},
])
def test_attention_windows_match_onnx_reference_opset25(attrs):
    inputs = make(np.random.default_rng(7), past=2)
    got = run_op("Attention", {**attrs, "num_outputs": 3}, ir_inputs(inputs))
    want = onnx_attention(inputs, attrs, 3, opset=25)
    for g, w in zip(got, want, strict=True):
        close(g, w)


def test_fully_masked_rows_give_zeros():
    inputs = make(np.random.default_rng(1), b=1, hq=1, hkv=1, mask=(4, 6))
    inputs["attn_mask"][1, :] = -np.inf
    y, qk = run_op("Attention", {"num_outputs": 4, "qk_matmul_output_mode": 3},
                   ir_inputs(inputs))[::3]
    assert np.all(y[0, 0, 1] == 0) and np.all(qk[0, 0, 1] == 0)
    assert np.isfinite(y).all()
    want = onnx_attention(inputs, {"qk_matmul_output_mode": 3}, 4)
    close(y, want[0])
    close(qk, want[3])


def test_shapes_and_output_count():
    s = registry.get("Attention")
    attrs = s.with_defaults({"q_num_heads": 4, "kv_num_heads": 2, "num_outputs": 4})
    shapes = s.infer_fn(attrs, [(2, 5, 32), (2, 7, 16), (2, 7, 12), (5, 10), (2, 2, 3, 8),
                                (2, 2, 3, 6)], {})
    assert shapes == [(2, 5, 24), (2, 2, 10, 8), (2, 2, 10, 6), (2, 4, 5, 10)]
    assert s.num_outputs({}) == 1
    assert s.num_outputs({"num_outputs": 3}) == 3


@pytest.mark.parametrize("shapes, attrs, match", [
    ([(2, 4, 24), (2, 6, 24), (2, 6, 24)], {}, "q_num_heads"),
    ([(2, 3, 4, 8), (2, 2, 6, 8), (2, 2, 6, 8)], {}, "multiple"),
    ([(2, 3, 4, 8), (2, 3, 6, 7), (2, 3, 6, 8)], {}, "head size"),
    ([(2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8), (4, 7)], {}, "last dim"),
    ([(2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8), (5, 4, 6)], {}, "broadcast"),
    ([(2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 8), (2, 3, 2, 8), (2, 3, 3, 8)], {}, "past_value"),
    ([(2, 3, 4, 8)] * 7, {}, "3 to 6"),
])
def test_bad_shapes_are_refused(shapes, attrs, match):
    s = registry.get("Attention")
    with pytest.raises(ValueError, match=match):
        s.infer_fn(s.with_defaults(attrs), shapes, {})


def test_schema_validates_input_count_and_attrs():
    s = registry.get("Attention")
    assert s.validate(Node("a", "Attention", ["q", "k", "v"], {})) == []
    assert s.validate(Node("a", "Attention", ["q", "k"], {}))
    assert s.validate(Node("a", "Attention", ["q", "k", "v"], {"qk_matmul_output_mode": 5}))
    assert s.validate(Node("a", "Attention", ["q", "k", "v"], {"softmax_precision": 7}))
