"""backend-onnx Attention emitter: ONNX Attention from opset 23 (window sizes from 25), the
computation in primitive ops below; onnxruntime agrees with the IR NumPy reference either way."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta_backend_onnx import build
from nnrosetta_backend_onnx.service import MODEL_ONNX, OnnxBackend

from ._cases import graph, inp

BACKEND = OnnxBackend()
OPSETS = [13, 17, 18, 22, 23, 24, build.max_opset()]


def attention(q, k, v, mask=None, past=None, attrs=None, fetch=(0,)):
    attrs = dict(attrs or {})
    if max(fetch) > 0:
        attrs["num_outputs"] = max(fetch) + 1

    def make():
        shapes = {"q": q, "k": k, "v": v}
        if mask is not None:
            shapes["mask"] = mask
        if past is not None:
            shapes["past_key"], shapes["past_value"] = past
        nodes = [inp(n, s) for n, s in shapes.items()]
        nodes.append(Node("attn", "Attention", list(shapes), attrs))
        return graph(nodes, {}, outputs=[f"attn:{i}" if i else "attn" for i in fetch])
    return make


Q4, K4, V4 = [2, 3, 4, 8], [2, 3, 6, 8], [2, 3, 6, 8]
PAST = ([2, 3, 12, 8], [2, 3, 12, 8])
CASES = {
    "4d": attention(Q4, K4, V4),
    "4d_scaled_softcap": attention(Q4, K4, V4, attrs={"scale": 0.2, "softcap": 3.0}),
    "4d_causal": attention(Q4, K4, V4, attrs={"is_causal": True}),
    "4d_mask4d_causal": attention(Q4, K4, V4, mask=[2, 1, 4, 6], attrs={"is_causal": True}),
    "4d_gqa": attention([2, 6, 4, 8], [2, 2, 6, 8], [2, 2, 6, 5]),
    "4d_past_short_mask_all": attention(Q4, K4, V4, mask=[4, 10], past=PAST,
                                        attrs={"qk_matmul_output_mode": 2},
                                        fetch=(0, 1, 2, 3)),
    "4d_past_causal": attention(Q4, K4, V4, past=PAST, attrs={"is_causal": True},
                                fetch=(0, 1, 2)),
    "4d_qk_softmax": attention(Q4, K4, V4, mask=[4, 6], attrs={"qk_matmul_output_mode": 3},
                               fetch=(0, 3)),
    "4d_softmax_double": attention(Q4, K4, V4, attrs={"softmax_precision": 11}),
    "4d_window": attention(Q4, K4, V4, past=PAST, attrs={"left_window_size": 2,
                                                         "right_window_size": 1}),
    "3d": attention([2, 4, 24], [2, 6, 24], [2, 6, 24],
                    attrs={"q_num_heads": 3, "kv_num_heads": 3}),
    "3d_gqa_past": attention([2, 4, 32], [2, 6, 16], [2, 6, 12], mask=[4, 9],
                             past=([2, 2, 3, 8], [2, 2, 3, 6]),
                             attrs={"q_num_heads": 4, "kv_num_heads": 2, "is_causal": True},
                             fetch=(0, 1, 2)),
}


def feeds(g, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for n in g.inputs:
        a = rng.standard_normal(n.attrs["shape"]).astype(np.float32)
        if n.name == "mask":   # an additive mask: zeros and -inf
            a = np.where(a > -0.5, 0.0, -np.inf).astype(np.float32)
        out[n.name] = a
    return out


def run(g, w, x, folder, opset):
    import onnxruntime as ort

    folder.mkdir(parents=True, exist_ok=True)
    files = {f: p for f, p in (i for i in BACKEND.from_ir(g, w, {"opset": str(opset)},
                                                          str(folder))
                               if isinstance(i, tuple))}
    m = onnx.load(files[MODEL_ONNX])
    sess = ort.InferenceSession(files[MODEL_ONNX], providers=["CPUExecutionProvider"])
    outs = sess.run(None, {i.name: x[i.name] for i in sess.get_inputs()})
    return m, outs


def _native(case: str, opset: int, graph=None) -> bool:
    """Whether backend-onnx writes ONNX Attention itself (else the computation spelled out):
    from opset 23 (25 with window sizes), unless qk_matmul_output is used (onnxruntime 1.32's
    kernel deviates from the definition there)."""
    if graph is not None and any(n.op == "Attention" and int(n.attrs.get("num_outputs", 1)) >= 4
                                 for n in graph.nodes):
        return False
    return opset >= 25 or (opset >= 23 and "window" not in case)


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_attention_matches_reference(case, opset, tmp_path):
    g, w = CASES[case]()
    assert registry.validate(g) == []
    assert BACKEND.issues(g, opset) == []
    x = feeds(g, sorted(CASES).index(case))
    ref = list(registry.run_reference(g, w, x).values())
    m, outs = run(g, w, x, tmp_path, opset)
    ops = {n.op_type for n in m.graph.node}
    assert ("Attention" in ops) == _native(case, opset, g), ops
    assert len(outs) == len(ref)
    for o, r in zip(outs, ref, strict=True):
        assert o.shape == r.shape and o.dtype == r.dtype
        fin = np.isfinite(r)
        np.testing.assert_array_equal(np.isneginf(o), np.isneginf(r))
        np.testing.assert_allclose(o[fin], r[fin], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("opset", [17, 23])
def test_fully_masked_rows_attend_to_nothing(opset, tmp_path):
    g, w = attention(Q4, K4, V4, mask=[4, 6], attrs={"qk_matmul_output_mode": 3},
                     fetch=(0, 3))()
    x = feeds(g, 0)
    x["mask"][2, :] = -np.inf
    ref = list(registry.run_reference(g, w, x).values())
    _, outs = run(g, w, x, tmp_path, opset)
    assert np.all(outs[0][:, :, 2] == 0) and np.all(outs[1][:, :, 2] == 0)
    for o, r in zip(outs, ref, strict=True):
        np.testing.assert_allclose(o, r, rtol=1e-4, atol=1e-5)


def test_unknown_heads_reported():
    g, _ = attention([2, 4, 24], [2, 6, 24], [2, 6, 24])()   # 3-D without head counts
    problems = build.problems(g, 17)
    assert [p[0] for p in problems] == ["attn"], problems
