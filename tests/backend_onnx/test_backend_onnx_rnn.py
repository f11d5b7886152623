"""backend-onnx RNN / GRU / LSTM emitters: the ONNX ops of the same names (time-first layout,
Transposes around a batch-first node); onnxruntime agrees with the IR NumPy reference, with
the weights given as inputs and stored as initializers."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from nnrosetta.ir import registry
from nnrosetta_backend_onnx.service import MODEL_ONNX, OnnxBackend
from tests.backend_pytorch.test_backend_pytorch_rnn import CASES, rnn_graph, values

BACKEND = OnnxBackend()


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


@pytest.mark.parametrize("opset", [13, 17, 22])
@pytest.mark.parametrize("dynamic", [True, False], ids=["inputs", "stored"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_rnn_matches_reference(case, dynamic, opset, tmp_path):
    op, kw, attrs = CASES[case]
    vals = values(op, sorted(CASES).index(case),
                  direction=attrs.get("direction", "forward"), **kw)
    g, w, feeds = rnn_graph(op, vals, attrs, dynamic=dynamic)
    assert registry.validate(g) == []
    assert BACKEND.issues(g, opset) == []
    ref = list(registry.run_reference(g, w, feeds).values())
    m, outs = run(g, w, feeds, tmp_path, opset)
    nodes = [n for n in m.graph.node if n.op_type == op]
    assert len(nodes) == 1
    assert all(a.name != "layout" for a in nodes[0].attribute)
    assert len(outs) == len(ref)
    for o, r in zip(outs, ref, strict=True):
        assert o.shape == r.shape and o.dtype == r.dtype
        np.testing.assert_allclose(o, r, rtol=1e-4, atol=1e-5)


def test_bad_activation_count_reported():
    vals = values("GRU", 0)
    g, _, _ = rnn_graph("GRU", vals, {"activations": ["Sigmoid"]})
    issues = BACKEND.issues(g, 17)
    assert issues and "activation" in str(issues)
