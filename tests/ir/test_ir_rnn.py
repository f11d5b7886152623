"""IR RNN, GRU, LSTM: the NumPy references against onnx.reference (what it implements:
default activations, no clip, sequence_lens, input_forget) and against onnxruntime (every
attribute: activations with alpha/beta, clip, sequence_lens, peepholes, input_forget)."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta.ir.ops.rnn import CELLS, ROLES, activation_lists

onnx = importlib.import_module("onnx")
from onnx import TensorProto, helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

OUTS = {"RNN": ["Y", "Y_h"], "GRU": ["Y", "Y_h"], "LSTM": ["Y", "Y_h", "Y_c"]}


def make(op, rng, *, seq=4, batch=3, inp=5, hidden=6, direction="forward", layout=0,
         bias=True, lens=None, init=False, peep=False):
    """ONNX-ordered inputs (name -> array; None where absent)."""
    gates = CELLS[op][0]
    nd = 2 if direction == "bidirectional" else 1
    f = np.float32
    x = rng.standard_normal((batch, seq, inp) if layout else (seq, batch, inp)).astype(f)
    v = {"X": x,
         "W": (rng.standard_normal((nd, gates * hidden, inp)) * 0.5).astype(f),
         "R": (rng.standard_normal((nd, gates * hidden, hidden)) * 0.5).astype(f),
         "B": (rng.standard_normal((nd, 2 * gates * hidden)) * 0.5).astype(f) if bias else None,
         "sequence_lens": None if lens is None else np.asarray(lens, np.int32),
         "initial_h": None, "initial_c": None, "P": None}
    state = (batch, nd, hidden) if layout else (nd, batch, hidden)
    if init:
        v["initial_h"] = rng.standard_normal(state).astype(f)
        if op == "LSTM":
            v["initial_c"] = rng.standard_normal(state).astype(f)
    if peep:
        v["P"] = (rng.standard_normal((nd, 3 * hidden)) * 0.5).astype(f)
    return {k: val for k, val in v.items() if k == "X" or k in ROLES[op]}


def onnx_model(op, values, attrs, n_out, opset=22):
    order = ["X", *ROLES[op]]
    names = [k if values.get(k) is not None else "" for k in order]
    while not names[-1]:
        names.pop()
    onnx_attrs = {k: (int(v) if isinstance(v, bool) else v) for k, v in attrs.items()
                  if k != "num_outputs" and v not in ([], 0.0)}
    if "layout" in attrs:
        onnx_attrs["layout"] = int(attrs["layout"])
    onnx_attrs["hidden_size"] = int(values["R"].shape[-1])   # onnxruntime needs it
    outs = OUTS[op][:n_out]
    node = helper.make_node(op, names, outs, **onnx_attrs)
    vi = [helper.make_tensor_value_info(
        n, TensorProto.INT32 if n == "sequence_lens" else TensorProto.FLOAT,
        list(values[n].shape)) for n in names if n]
    graph = helper.make_graph([node], "g", vi, [
        helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def ir_run(op, values, attrs):
    """The IR reference on a node whose inputs bind every given weight role."""
    schema = registry.get(op)
    given = [r for r in ROLES[op] if values.get(r) is not None]
    node_attrs = dict(attrs)
    if given != ROLES[op][:len(given)]:
        node_attrs["weight_inputs"] = given
    node = Node("n", op, ["x", *given], node_attrs)
    assert schema.validate(node, []) == []
    ins = [values["X"], *(values[r] for r in given)]
    outs = schema.reference_node(node, ins, {})
    shapes = schema.infer_node(node, [a.shape for a in ins], {})
    assert [o.shape for o in outs] == [tuple(s) for s in shapes]
    assert all(o.dtype == np.float32 for o in outs)
    return outs


def compare(got, want, tol=1e-5):
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape, (g.shape, w.shape)
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol)


# (op, make() keywords, attrs): cases onnx.reference implements
REF_CASES = {
    "rnn_defaults": ("RNN", {"bias": False}, {}),
    "rnn_bias_init": ("RNN", {"init": True}, {}),
    "rnn_reverse": ("RNN", {}, {"direction": "reverse"}),
    "rnn_bidirectional": ("RNN", {"init": True}, {"direction": "bidirectional"}),
    "rnn_batchwise": ("RNN", {"layout": 1, "init": True}, {"layout": 1}),
    "gru_defaults": ("GRU", {"bias": False}, {}),
    "gru_bias_init": ("GRU", {"init": True}, {}),
    "gru_linear_before_reset": ("GRU", {"init": True}, {"linear_before_reset": True}),
    "gru_bidirectional": ("GRU", {}, {"direction": "bidirectional"}),
    "gru_reverse_batchwise": ("GRU", {"layout": 1, "init": True},
                              {"direction": "reverse", "layout": 1}),
    "lstm_defaults": ("LSTM", {"bias": False}, {}),
    "lstm_init_peepholes": ("LSTM", {"init": True, "peep": True}, {}),
    "lstm_reverse": ("LSTM", {"init": True}, {"direction": "reverse"}),
    "lstm_bidirectional_peep": ("LSTM", {"peep": True, "init": True},
                                {"direction": "bidirectional"}),
    "lstm_batchwise": ("LSTM", {"layout": 1, "init": True}, {"layout": 1}),
}


@pytest.mark.parametrize("case", sorted(REF_CASES))
def test_against_onnx_reference(case):
    op, kw, attrs = REF_CASES[case]
    values = make(op, np.random.default_rng(sorted(REF_CASES).index(case)),
                  direction=attrs.get("direction", "forward"), **kw)
    n_out = len(OUTS[op])
    model = onnx_model(op, values, attrs, n_out)
    want = ReferenceEvaluator(model).run(None, {k: v for k, v in values.items()
                                                if v is not None})
    compare(ir_run(op, values, attrs), want)


# cases only onnxruntime implements (activations, clip, sequence_lens, input_forget)
ORT_CASES = {
    "rnn_relu_seq_lens": ("RNN", {"lens": [4, 2, 0]}, {"activations": ["Relu"]}),
    "rnn_affine_bidi": ("RNN", {"init": True},
                        {"direction": "bidirectional", "activations": ["Affine", "Tanh"],
                         "activation_alpha": [0.7], "activation_beta": [0.2]}),
    "rnn_bidi_seq_lens": ("RNN", {"lens": [1, 4, 3], "init": True},
                          {"direction": "bidirectional"}),
    "gru_clip_seq_lens": ("GRU", {"lens": [3, 4, 1], "init": True},
                          {"clip": 0.5, "linear_before_reset": True}),
    "gru_hardsigmoid": ("GRU", {}, {"activations": ["HardSigmoid", "Softsign"],
                                    "activation_alpha": [0.3], "activation_beta": [0.4]}),
    "gru_reverse_seq_lens": ("GRU", {"lens": [2, 4, 3]}, {"direction": "reverse"}),
    "lstm_input_forget": ("LSTM", {"init": True}, {"input_forget": True}),
    "lstm_clip_peep": ("LSTM", {"peep": True, "init": True}, {"clip": 0.7}),
    "lstm_acts_bidi": ("LSTM", {}, {
        "direction": "bidirectional",
        "activations": ["Sigmoid", "LeakyRelu", "ScaledTanh", "HardSigmoid", "Elu", "Softplus"],
        "activation_alpha": [0.1, 0.8, 0.3, 0.9], "activation_beta": [1.2, 0.45]}),
    "lstm_seq_lens_bidi": ("LSTM", {"lens": [4, 1, 3], "init": True},
                           {"direction": "bidirectional"}),
}


@pytest.mark.parametrize("case", sorted(ORT_CASES))
def test_against_onnxruntime(case):
    ort = importlib.import_module("onnxruntime")
    op, kw, attrs = ORT_CASES[case]
    values = make(op, np.random.default_rng(100 + sorted(ORT_CASES).index(case)),
                  direction=attrs.get("direction", "forward"), **kw)
    n_out = len(OUTS[op])
    model = onnx_model(op, values, attrs, n_out)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = sess.run(None, {k: v for k, v in values.items() if v is not None})
    compare(ir_run(op, values, attrs), want, tol=1e-4)


def test_num_outputs_and_stored_weights():
    """Stored weights (no bound inputs) and fewer outputs."""
    rng = np.random.default_rng(7)
    values = make("LSTM", rng, init=True)
    node = Node("n", "LSTM", ["x"], {"num_outputs": 2})
    schema = registry.get("LSTM")
    roles = [r for r in ROLES["LSTM"] if values.get(r) is not None]
    assert schema.validate(node, roles) == []
    outs = schema.reference_node(node, [values["X"]], {r: values[r] for r in roles})
    assert len(outs) == 2 == schema.num_outputs(node.attrs)
    compare(outs, ir_run("LSTM", values, {})[:2])


def test_activation_lists():
    attrs = registry.get("LSTM").with_defaults({
        "direction": "bidirectional", "activations": ["sigmoid", "Affine", "tanh"],
        "activation_alpha": [2.0], "activation_beta": []})
    fwd, bwd = activation_lists("LSTM", attrs)
    assert fwd == [("Sigmoid", 0.0, 0.0), ("Affine", 2.0, 0.0), ("Tanh", 0.0, 0.0)]
    assert bwd == [("Sigmoid", 0.0, 0.0), ("Affine", 1.0, 0.0), ("Tanh", 0.0, 0.0)]


def test_bad_shapes_are_reported():
    schema = registry.get("GRU")
    node = Node("n", "GRU", ["x", "w", "r"], {"hidden_size": 5})
    with pytest.raises(ValueError, match="R has shape"):
        schema.infer_node(node, [(4, 3, 5), (1, 15, 5), (1, 15, 4)], {})
    node = Node("n", "GRU", ["x", "w", "r"], {"activations": ["Tanh"]})
    with pytest.raises(ValueError, match="activation"):
        schema.reference_node(node, [np.zeros((1, 1, 2), np.float32),
                                     np.zeros((1, 3, 2), np.float32),
                                     np.zeros((1, 3, 1), np.float32)], {})
