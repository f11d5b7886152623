"""The Attention importer (opset 23..): ONNX models built here, converted to the IR's
Attention op, the IR's NumPy reference compared with onnxruntime (every output)."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from nnrosetta.ir import registry
from tests.frontend_onnx._models import init, ort_run, to_ir

F = TensorProto.FLOAT
OUTS = ["Y", "present_key", "present_value", "qk_matmul_output"]


def model(inputs: dict, attrs: dict, n_out: int = 1, inits=(), opset: int = 23,
          names=None, outputs=None):
    """One Attention node; ``inputs``: name -> shape (graph inputs, in ONNX input order)."""
    names = names or list(inputs) + [i.name for i in inits]
    outputs = outputs or OUTS[:n_out]
    node = helper.make_node("Attention", names, outputs, name="attn", **attrs)
    g = helper.make_graph(
        [node], "g", [helper.make_tensor_value_info(k, F, v) for k, v in inputs.items()],
        [helper.make_tensor_value_info(o, F, None) for o in outputs if o], list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 10
    return m


def compare(m, tmp_path, seed=0, feeds=None):
    graph, weights = to_ir(m, tmp_path)
    r = np.random.default_rng(seed)
    feeds = feeds or {n.name: r.standard_normal(n.attrs["shape"]).astype(np.float32)
                      for n in graph.inputs}
    want = ort_run(m, {n.attrs["_source_name"]: feeds[n.name] for n in graph.inputs})
    got = registry.run_reference(graph, weights, feeds)
    assert len(graph.outputs) == len(want)
    for ref, o in zip(graph.outputs, [o.name for o in m.graph.output], strict=True):
        have, exp = got[ref], want[o]
        assert have.shape == exp.shape, (o, have.shape, exp.shape)
        fin = np.isfinite(exp)
        np.testing.assert_array_equal(np.isneginf(have), np.isneginf(exp))
        np.testing.assert_allclose(have[fin], exp[fin], rtol=1e-4, atol=1e-5)
    return graph


Q4, K4, V4 = [2, 3, 4, 8], [2, 3, 6, 8], [2, 3, 6, 8]
PAST = {"past_key": [2, 3, 5, 8], "past_value": [2, 3, 5, 8]}
CASES = {
    "4d": ({"Q": Q4, "K": K4, "V": V4}, {}, 1),
    "4d_causal_scaled_softcap": ({"Q": Q4, "K": K4, "V": V4},
                                 {"is_causal": 1, "scale": 0.25, "softcap": 2.0}, 1),
    "4d_gqa_mask": ({"Q": [2, 6, 4, 8], "K": [2, 2, 6, 8], "V": [2, 2, 6, 4],
                     "attn_mask": [2, 1, 4, 6]}, {}, 1),
    "4d_past_mask_qk": ({"Q": Q4, "K": K4, "V": V4, "attn_mask": [4, 11], **PAST},
                        {"qk_matmul_output_mode": 0}, 4),
    "3d_past_causal": ({"Q": [2, 4, 24], "K": [2, 6, 24], "V": [2, 6, 24],
                        "attn_mask": [4, 11], **PAST},
                       {"q_num_heads": 3, "kv_num_heads": 3, "is_causal": 1}, 3),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_attention(case, tmp_path):
    inputs, attrs, n_out = CASES[case]
    g = compare(model(inputs, attrs, n_out), tmp_path, seed=sorted(CASES).index(case))
    att = [n for n in g.nodes if n.op == "Attention"]
    assert len(att) == 1 and att[0].attrs["num_outputs"] == n_out
    assert len(att[0].inputs) == len(inputs)


def test_past_without_mask_opset24(tmp_path):
    """An omitted attn_mask ("") between V and the past: 5 IR inputs."""
    inputs = {"Q": Q4, "K": K4, "V": V4, **PAST}
    m = model(inputs, {"is_causal": 1}, 3, opset=24,
              names=["Q", "K", "V", "", "past_key", "past_value"])
    g = compare(m, tmp_path)
    att = next(n for n in g.nodes if n.op == "Attention")
    assert len(att.inputs) == 5


def test_only_qk_output_used(tmp_path):
    """Outputs Y, -, -, qk_matmul_output (the middle ones omitted)."""
    m = model({"Q": Q4, "K": K4, "V": V4, "attn_mask": [4, 6]}, {"qk_matmul_output_mode": 3},
              outputs=["Y", "", "", "qk"])
    compare(m, tmp_path)


def test_constant_bool_mask_becomes_additive(tmp_path):
    mask = np.random.default_rng(3).random((4, 6)) > 0.3
    mask[:, 0] = True
    m = model({"Q": Q4, "K": K4, "V": V4}, {}, inits=[init("attn_mask", mask)])
    g = compare(m, tmp_path)
    assert [n.op for n in g.nodes if n.op != "Input"] == ["Constant", "Attention"]


def _issues(m, tmp_path) -> str:
    with pytest.raises(Exception) as info:
        to_ir(m, tmp_path)
    return str(info.value) + " " + " ".join(
        str(getattr(i, "message", i)) for i in getattr(info.value, "issues", []) or [])


def test_nonpad_kv_seqlen_refused(tmp_path):
    m = model({"Q": Q4, "K": K4, "V": V4}, {}, opset=24,
              inits=[init("nonpad_kv_seqlen", np.array([6, 4], np.int64))],
              names=["Q", "K", "V", "", "", "", "nonpad_kv_seqlen"])
    assert "nonpad_kv_seqlen" in _issues(m, tmp_path)


def test_bfloat16_softmax_precision_refused(tmp_path):
    m = model({"Q": Q4, "K": K4, "V": V4}, {"softmax_precision": TensorProto.BFLOAT16})
    assert "softmax_precision" in _issues(m, tmp_path)


def test_before_opset_23_is_not_imported(tmp_path):
    from nnrosetta_frontend_onnx.importers import find

    assert find("Attention", 22) is None
    assert find("Attention", 23) is not None and find("Attention", 25) is not None
