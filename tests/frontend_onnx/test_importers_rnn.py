"""The RNN / GRU / LSTM importers (opset 7..): constant inputs become stored weights of the
IR node, run-time ones are bound to its inputs (``weight_inputs`` when one is skipped); the
IR's NumPy reference agrees with onnxruntime on every output."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from nnrosetta.ir import registry
from nnrosetta.ir.ops.rnn import CELLS, ROLES
from tests.frontend_onnx._models import init, make, ort_run, rng, to_ir

OUTS = {"RNN": ["Y", "Y_h"], "GRU": ["Y", "Y_h"], "LSTM": ["Y", "Y_h", "Y_c"]}
SEQ, BATCH, IN, HID = 4, 3, 5, 6


def rnn_model(op, *, const=(), skip=(), direction="forward", attrs=None, outputs=None,
              opset=17, lens=None):
    """One recurrent node; the roles in ``const`` are initializers, the others graph inputs;
    roles in ``skip`` are left out (empty names)."""
    r = rng(3)
    nd = 2 if direction == "bidirectional" else 1
    g = CELLS[op][0]
    shapes = {"W": [nd, g * HID, IN], "R": [nd, g * HID, HID], "B": [nd, 2 * g * HID],
              "sequence_lens": [BATCH], "initial_h": [nd, BATCH, HID],
              "initial_c": [nd, BATCH, HID], "P": [nd, 3 * HID]}
    inputs, inits, names = {"X": [SEQ, BATCH, IN]}, [], ["X"]
    for role in ROLES[op]:
        if role in skip or (role == "sequence_lens" and lens is None):
            names.append("")
        elif role == "sequence_lens":
            inits.append(init(role, np.asarray(lens, np.int32)))
            names.append(role)
        elif role in const:
            inits.append(init(role, r(*shapes[role]) * 0.5))
            names.append(role)
        else:
            inputs[role] = shapes[role]
            names.append(role)
    while not names[-1]:
        names.pop()
    outs = outputs or OUTS[op]
    node = helper.make_node(op, names, outs, hidden_size=HID, direction=direction,
                            **(attrs or {}))
    return make([node], inputs, {o: None for o in outs if o}, inits, opset=opset)


def check_against_ort(m, tmp_path):
    """Convert, run the IR reference and onnxruntime, compare every output (by position)."""
    graph, weights = to_ir(m, tmp_path)
    r = rng(1)
    feeds = {n.name: r(*n.attrs["shape"]) for n in graph.inputs}
    want = ort_run(m, {n.attrs["_source_name"]: feeds[n.name] for n in graph.inputs})
    got = registry.run_reference(graph, weights, feeds)
    assert len(graph.outputs) == len(m.graph.output)
    for ref, o in zip(graph.outputs, m.graph.output, strict=True):
        assert got[ref].shape == want[o.name].shape, (o.name, got[ref].shape)
        np.testing.assert_allclose(got[ref], want[o.name], rtol=1e-4, atol=1e-5)
    return graph


CASES = {
    "rnn_const": ("RNN", {"const": ("W", "R", "B")}),
    "rnn_inputs_bidi": ("RNN", {"direction": "bidirectional", "skip": ("sequence_lens",)}),
    "gru_const_lens": ("GRU", {"const": ("W", "R", "B", "initial_h"), "lens": [4, 1, 2],
                               "attrs": {"linear_before_reset": 1}}),
    "gru_skip_b": ("GRU", {"const": ("W", "R"), "skip": ("B",), "opset": 7,
                           "attrs": {"activations": ["hardsigmoid", "tanh"],
                                     "activation_alpha": [0.3], "activation_beta": [0.4]}}),
    "lstm_mixed": ("LSTM", {"const": ("W", "P"), "skip": ("B",), "direction": "reverse",
                            "attrs": {"clip": 0.9}}),
    "lstm_only_y_h": ("LSTM", {"const": ("W", "R", "B"), "outputs": ["", "Y_h"],
                               "attrs": {"input_forget": 1}}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rnn_against_ort(case, tmp_path):
    op, kw = CASES[case]
    m = rnn_model(op, **kw)
    graph = check_against_ort(m, tmp_path)
    (n,) = [n for n in graph.nodes if n.op == op]
    const = set(kw.get("const", ())) | ({"sequence_lens"} if kw.get("lens") else set())
    assert set(graph.weight_names(n)) == const
    bound = [r for r in ROLES[op] if r not in const and r not in kw.get("skip", ())
             and r != "sequence_lens" and r in {i.name for i in m.graph.input}]
    assert len(n.inputs) == 1 + len(bound)
    if bound and bound != list(ROLES[op][:len(bound)]):
        assert n.attrs["weight_inputs"] == bound


def test_batchwise_layout_kept(tmp_path):
    r = rng(0)
    node = helper.make_node("GRU", ["X", "W", "R"], ["Y", "Y_h"], hidden_size=HID, layout=1)
    m = make([node], {"X": [BATCH, SEQ, IN]}, {"Y": None, "Y_h": None},
             [init("W", r(1, 3 * HID, IN)), init("R", r(1, 3 * HID, HID))], opset=14)
    graph, _ = to_ir(m, tmp_path)
    (n,) = [n for n in graph.nodes if n.op == "GRU"]
    assert n.attrs["layout"] == 1
    assert n.attrs["_output_shapes"] == [[BATCH, SEQ, 1, HID], [BATCH, 1, HID]]


def test_unknown_activation_is_unsupported(tmp_path):
    m = rnn_model("RNN", const=("W", "R"), attrs={"activations": ["Swish"]})
    with pytest.raises(Exception, match="Swish"):
        to_ir(m, tmp_path)


def test_int_sequence_lens_is_int32(tmp_path):
    m = rnn_model("RNN", const=("W", "R"), lens=[4, 4, 2])
    graph, weights = to_ir(m, tmp_path)
    (n,) = [n for n in graph.nodes if n.op == "RNN"]
    t = graph.weight_names(n)["sequence_lens"]
    assert np.asarray(weights[t]).dtype == np.int32
    assert TensorProto.INT32 == 6
