"""backend-tf recurrent ops: IR RNN / GRU / LSTM -> Keras SimpleRNN / GRU / LSTM
(Bidirectional), against the IR's NumPy reference (1e-4 relative to the output's scale) for
every direction, both layouts, the output combinations a graph consumes, initial states bound
to inputs or stored; model.keras loaded in safe mode and model.py + weights give the same; what
Check refuses; and one Keras -> IR -> Keras round trip (frontend-tf, then this backend)."""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta.rpc.converter import Model
from nnrosetta_backend_tf import codegen
from nnrosetta_backend_tf.service import MODEL_KERAS, MODEL_PY, WEIGHTS_H5

from ._cases import close, feeds, graph, inp, rand
from .test_backend_tf_emitters import assert_code, ruff
from .test_backend_tf_files import convert, import_as_user

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}
SEQ, BATCH, IN, HIDDEN = 5, 2, 3, 4


def rnn_graph(op: str, direction: str = "forward", layout: int = 0, outputs=(0,),
              bias: bool = True, init: str = "", after: str = "", **attrs):
    """x -> op, its outputs ``outputs`` (0 Y, 1 Y_h, 2 Y_c) returned (through a Tanh when
    ``after``); ``init``: "input" binds initial_h (and LSTM's initial_c) to graph inputs,
    "stored" keeps them as weights, "h_input" binds initial_h only."""
    nd = 2 if direction == "bidirectional" else 1
    g = GATES[op]
    x_shape = [BATCH, SEQ, IN] if layout else [SEQ, BATCH, IN]
    s_shape = [BATCH, nd, HIDDEN] if layout else [nd, BATCH, HIDDEN]
    w = {"rnn.W": rand(nd, g * HIDDEN, IN, scale=0.7), "rnn.R": rand(nd, g * HIDDEN, HIDDEN,
                                                                      scale=0.5)}
    if bias:
        w["rnn.B"] = rand(nd, 2 * g * HIDDEN, scale=0.5)
    nodes = [inp("x", x_shape)]
    ins, roles = ["x"], []
    states = ["initial_h", "initial_c"][:2 if op == "LSTM" else 1]
    if init == "h_input":
        states = ["initial_h"]
    for role in states if init else []:
        if init == "stored":
            w[f"rnn.{role}"] = rand(*s_shape)
        else:
            nodes.append(inp(role, s_shape))
            ins.append(role)
            roles.append(role)
    a = {"direction": direction, "layout": layout, "hidden_size": HIDDEN,
         "num_outputs": max(outputs) + 1, **attrs}
    if roles:
        a["weight_inputs"] = roles
    nodes.append(Node("rnn", op, ins, a))
    refs = ["rnn" if i == 0 else f"rnn:{i}" for i in outputs]
    if after:
        nodes += [Node(f"t{i}", "Tanh", [r]) for i, r in enumerate(refs)]
        refs = [f"t{i}" for i in range(len(refs))]
    return graph(nodes, w, outputs=refs)


CASES = {
    "lstm_fwd_y": ("LSTM", {}),
    "lstm_fwd_all_l1": ("LSTM", {"layout": 1, "outputs": (0, 1, 2)}),
    "lstm_rev_y_h": ("LSTM", {"direction": "reverse", "outputs": (0, 1)}),
    "lstm_rev_h_only_l1": ("LSTM", {"direction": "reverse", "layout": 1, "outputs": (1,)}),
    "lstm_bi_y_l1": ("LSTM", {"direction": "bidirectional", "layout": 1}),
    "lstm_bi_all": ("LSTM", {"direction": "bidirectional", "outputs": (0, 1, 2)}),
    "lstm_bi_c_only_l1": ("LSTM", {"direction": "bidirectional", "layout": 1,
                                   "outputs": (2,)}),
    "lstm_bi_h_only_tanh": ("LSTM", {"direction": "bidirectional", "outputs": (1,),
                                     "after": "tanh"}),
    "lstm_init_input": ("LSTM", {"init": "input", "outputs": (0, 1, 2)}),
    "lstm_bi_init_input_l1": ("LSTM", {"direction": "bidirectional", "layout": 1,
                                       "init": "input", "outputs": (0, 2)}),
    "lstm_init_h_only": ("LSTM", {"init": "h_input", "layout": 1, "outputs": (1, 2)}),
    "lstm_init_stored": ("LSTM", {"direction": "reverse", "init": "stored",
                                  "outputs": (0, 1)}),
    "lstm_no_bias": ("LSTM", {"bias": False, "layout": 1, "outputs": (0,)}),
    "lstm_softsign_hard_sigmoid": ("LSTM", {"layout": 1, "activations": [
        "HardSigmoid", "Softsign", "Softsign"], "activation_alpha": [1 / 6],
        "activation_beta": [0.5]}),
    "gru_lbr1_fwd": ("GRU", {"linear_before_reset": True, "outputs": (0, 1)}),
    "gru_lbr0_fwd_l1": ("GRU", {"layout": 1, "outputs": (0, 1)}),
    "gru_lbr0_rev": ("GRU", {"direction": "reverse", "outputs": (0,)}),
    "gru_lbr1_rev_h_l1": ("GRU", {"direction": "reverse", "linear_before_reset": True,
                                  "layout": 1, "outputs": (1,)}),
    "gru_lbr1_bi_all": ("GRU", {"direction": "bidirectional", "linear_before_reset": True,
                                "outputs": (0, 1), "after": "tanh"}),
    "gru_lbr0_bi_h_l1": ("GRU", {"direction": "bidirectional", "layout": 1,
                                 "outputs": (1,)}),
    "gru_init_input_l1": ("GRU", {"init": "input", "layout": 1, "linear_before_reset": True,
                                  "outputs": (0, 1)}),
    "gru_bi_init_input": ("GRU", {"direction": "bidirectional", "init": "input",
                                  "outputs": (0, 1)}),
    "gru_no_bias": ("GRU", {"bias": False, "outputs": (0,)}),
    "rnn_fwd": ("RNN", {"outputs": (0, 1)}),
    "rnn_rev_l1": ("RNN", {"direction": "reverse", "layout": 1, "outputs": (0, 1)}),
    "rnn_bi": ("RNN", {"direction": "bidirectional", "outputs": (0, 1)}),
    "rnn_relu_init_l1": ("RNN", {"layout": 1, "activations": ["Relu"], "init": "input",
                                 "outputs": (0,)}),
}


def case(name: str):
    op, kw = CASES[name]
    return rnn_graph(op, **kw)


def run_ir(backend, g, w, x, tmp_path):
    outs, info = backend.run(Model(format="ir", graph=g, weights=w, workdir=str(tmp_path)),
                             x, [])
    assert info["mode"] == "ir"
    return dict(outs)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference(name, backend, tmp_path):
    g, w = case(name)
    assert backend.issues(g) == []
    x = feeds(g)
    ref = registry.run_reference(g, w, x)
    outs = run_ir(backend, g, w, x, tmp_path)
    assert list(outs) == list(ref)
    for k, v in outs.items():
        close(v, ref[k])


def _ir_value(meta: dict, keras_value: np.ndarray) -> np.ndarray:
    perm = meta["layout"]["perm"]
    return np.transpose(keras_value, np.argsort(perm))


@pytest.mark.parametrize("name", ["lstm_bi_all", "gru_lbr0_rev", "rnn_rev_l1",
                                  "lstm_bi_init_input_l1", "gru_lbr1_bi_all"])
def test_files_as_a_user_would_load_them(name, backend, tmp_path):
    """model.keras in safe mode (no model.py imported) and model.py + weights."""
    g, w = case(name)
    x = feeds(g, seed=4)
    ref = registry.run_reference(g, w, x)
    (tmp_path / "code").mkdir()
    files, _ = convert(backend, g, w, tmp_path, artifacts="keras")
    files.update(convert(backend, g, w, tmp_path / "code", artifacts="code")[0])
    mod = import_as_user(files[MODEL_PY], f"model_{name}")
    feed = [np.transpose(x[i["ir"]], i["perm"]) for i in codegen.generate(g, w).inputs]
    net = keras.models.load_model(files[MODEL_KERAS], safe_mode=True)
    rebuilt = mod.build_model()
    rebuilt.load_weights(files[WEIGHTS_H5])
    outputs = codegen.generate(g, w).outputs
    for model in (net, rebuilt):
        got = model(feed if len(feed) > 1 else feed[0], training=False)
        got = got if isinstance(got, (list, tuple)) else [got]
        assert len(got) == len(ref)
        for meta, value in zip(outputs, got, strict=True):
            close(_ir_value(meta, np.asarray(value)), ref[meta["ir"]])
    path = tmp_path / "model_src.py"
    path.write_text(Path(files[MODEL_PY]).read_text())
    ruff(path)


def body(name: str) -> str:
    g, w = case(name)
    src = codegen.generate(g, w).source
    return src[src.index("def build_model"):]


CODE = {
    # name: (must appear, must not appear)
    "lstm_fwd_all_l1": (["layers.LSTM(4, return_sequences=True, return_state=True",
                         "Reshape((-1, 1, 4)"], ["transpose", "Permute", "flip"]),
    "lstm_rev_h_only_l1": (["go_backwards=True"], ["return_sequences", "return_state",
                                                   "flip"]),
    "lstm_rev_y_h": (["ops.transpose(x, (1, 0, 2))", "ops.flip(", "go_backwards=True"], []),
    "lstm_bi_y_l1": (["layers.Bidirectional(", "layers.LSTM(4, return_sequences=True)",
                      'merge_mode="concat"', "Reshape((-1, 2, 4)"], ["flip", "transpose"]),
    "gru_lbr0_fwd_l1": (["reset_after=False"], []),
    "gru_lbr1_fwd": (["layers.GRU(4, return_sequences=True, return_state=True"],
                     ["reset_after"]),
    "rnn_relu_init_l1": (["layers.SimpleRNN(", 'activation="relu"',
                          "initial_state=[rnn_initial_h_0]", "initial_h[:, 0]"], []),
    "lstm_softsign_hard_sigmoid": (['recurrent_activation="hard_sigmoid"',
                                    'activation="softsign"'], []),
    "lstm_init_h_only": (["ops.zeros_like("], []),
}


@pytest.mark.parametrize("name", sorted(CODE))
def test_generated_code(name):
    assert_code(body(name), *CODE[name])


def test_check_refuses_what_keras_cannot_express(backend):
    """Every problem of a node, all at once."""
    g, w = rnn_graph("LSTM", clip=1.0, input_forget=True,
                     activations=["Sigmoid", "Tanh", "Relu"])
    g.tensors.update(graph([], {"rnn.P": rand(1, 12), "rnn.sequence_lens":
                                np.full(BATCH, SEQ, np.int32)})[0].tensors)
    msgs = [i.message for i in backend.issues(g)]
    text = "\n".join(msgs)
    for s in ("clip", "input_forget", "peepholes", "sequence_lens", "g Tanh and h Relu"):
        assert s in text, text
    assert len(msgs) == 5, msgs
    g, _ = rnn_graph("GRU", direction="bidirectional",
                     activations=["Sigmoid", "Tanh", "HardSigmoid", "Tanh"])
    assert "different activations" in "\n".join(i.message for i in backend.issues(g))
    g, _ = rnn_graph("RNN", activations=["ScaledTanh"])
    assert "ScaledTanh(alpha=1, beta=1) has no Keras equivalent" in \
        "\n".join(i.message for i in backend.issues(g))
    g, _ = graph([inp("x", [4, 3]), inp("i", [2, 5]), Node("g", "Gather", ["x", "i"])], {})
    assert "embedding lookup" in "\n".join(i.message for i in backend.issues(g))


def test_wrong_gate_order_is_caught(backend, tmp_path, monkeypatch):
    """The tests see a gate order mistake (LSTM blocks in ONNX's order)."""
    from nnrosetta_backend_tf.emitters import recurrent

    monkeypatch.setitem(recurrent.KERAS, "LSTM", ("layers.LSTM", (0, 1, 2, 3)))
    g, w = case("lstm_fwd_y")
    x = feeds(g)
    ref = registry.run_reference(g, w, x)
    outs = run_ir(backend, g, w, x, tmp_path)
    with pytest.raises(AssertionError):
        close(outs["rnn"], ref["rnn"])


# -- Keras -> IR -> Keras -------------------------------------------------------------------

def _frontend_tf():
    path = str(Path(__file__).resolve().parents[2] / "services" / "frontend-tf")
    if path not in sys.path:
        sys.path.insert(0, path)
    from nnrosetta_frontend_tf.keras_import import convert_keras

    return convert_keras


def test_keras_round_trip(backend, tmp_path):
    """Embedding -> Bidirectional(LSTM) -> GRU (go_backwards) -> Dense, random weights:
    frontend-tf to IR, this backend to model.keras, same output as the original model."""
    convert_keras = _frontend_tf()
    L = keras.layers
    i = keras.Input((7,), dtype="int32", name="tokens")
    x = L.Embedding(11, 4, name="emb")(i)
    x = L.Bidirectional(L.LSTM(5, return_sequences=True), name="bilstm")(x)
    x = L.GRU(3, go_backwards=True, name="gru")(x)
    original = keras.Model(i, L.Dense(2, name="head")(x))
    rng = np.random.default_rng(11)
    for v in original.weights:
        v.assign(rng.normal(0, 0.5, tuple(v.shape)).astype(np.float32))
    original.save(tmp_path / "original.keras")
    loaded = keras.models.load_model(tmp_path / "original.keras")
    conv = convert_keras(loaded, {})
    assert not conv.issues, conv.issues
    g, w = conv.graph, conv.materialize()
    assert {"LSTM", "GRU", "Gather"} <= {n.op for n in g.nodes}
    assert backend.issues(g) == []
    (tmp_path / "out").mkdir()
    files, _ = convert(backend, g, w, tmp_path / "out", artifacts="keras")
    net = keras.models.load_model(files[MODEL_KERAS], safe_mode=True)
    tokens = rng.integers(0, 11, (1, 7)).astype(np.int32)
    want = original(tokens).numpy()
    got = np.asarray(net(tokens))
    close(got, want)
