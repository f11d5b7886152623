"""Embedding, SimpleRNN, GRU, LSTM and Bidirectional against Keras 3 itself (TensorFlow is the
oracle, within 1e-4 of the output's scale): every output combination (return_sequences,
return_state, go_backwards, merge modes), initial states from other tensors, activations,
layouts (after a Conv1D), what is refused (stateful, masks), and one model through
backend-pytorch. The simpler cases also run under Keras 2 (``_cases.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from tests.frontend_tf._cases import embedding_lstm, recurrent_model
from tests.frontend_tf._keras import check, keras, rand, randomize, rel_err

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def K():
    return keras()


def _one(K, make, shape=(6, 4)):
    i = K.Input(shape, name="x")
    out = make(K.layers)(i)
    m = K.Model(i, out)
    randomize(m, seed=5)
    return m, [rand(2, *shape, seed=2)]


LAYERS = {
    "lstm_seq": lambda L: L.LSTM(5, return_sequences=True),
    "lstm_last": lambda L: L.LSTM(5),
    "lstm_state": lambda L: L.LSTM(5, return_state=True),
    "lstm_seq_state": lambda L: L.LSTM(5, return_sequences=True, return_state=True),
    "lstm_backwards_seq": lambda L: L.LSTM(5, return_sequences=True, go_backwards=True),
    "lstm_backwards_seq_state": lambda L: L.LSTM(3, return_sequences=True, go_backwards=True,
                                                 return_state=True),
    "lstm_no_bias": lambda L: L.LSTM(4, use_bias=False, return_sequences=True),
    "lstm_activations": lambda L: L.LSTM(4, activation="softsign",
                                         recurrent_activation="hard_sigmoid",
                                         return_sequences=True),
    "lstm_relu": lambda L: L.LSTM(4, activation="relu", return_sequences=True),
    "gru_reset_after_seq": lambda L: L.GRU(5, return_sequences=True),
    "gru_reset_after_last": lambda L: L.GRU(5),
    "gru_reset_before_seq": lambda L: L.GRU(5, reset_after=False, return_sequences=True),
    "gru_reset_before_state": lambda L: L.GRU(5, reset_after=False, return_state=True),
    "gru_backwards_state": lambda L: L.GRU(4, go_backwards=True, return_sequences=True,
                                           return_state=True),
    "gru_no_bias": lambda L: L.GRU(3, use_bias=False),
    "simple_rnn_seq": lambda L: L.SimpleRNN(5, return_sequences=True),
    "simple_rnn_last": lambda L: L.SimpleRNN(5),
    "simple_rnn_relu_backwards": lambda L: L.SimpleRNN(4, activation="relu",
                                                       go_backwards=True,
                                                       return_sequences=True),
    "simple_rnn_linear_state": lambda L: L.SimpleRNN(4, activation="linear",
                                                     return_state=True),
    "dropout_inactive": lambda L: L.LSTM(4, dropout=0.3, recurrent_dropout=0.2),
    "bi_lstm_concat_seq": lambda L: L.Bidirectional(L.LSTM(4, return_sequences=True)),
    "bi_lstm_concat_last": lambda L: L.Bidirectional(L.LSTM(4)),
    "bi_lstm_sum_seq": lambda L: L.Bidirectional(L.LSTM(4, return_sequences=True),
                                                 merge_mode="sum"),
    "bi_lstm_sum_last": lambda L: L.Bidirectional(L.LSTM(4), merge_mode="sum"),
    "bi_gru_ave": lambda L: L.Bidirectional(L.GRU(3, return_sequences=True),
                                            merge_mode="ave"),
    "bi_gru_reset_before_mul": lambda L: L.Bidirectional(L.GRU(3, reset_after=False),
                                                         merge_mode="mul"),
    "bi_rnn_none": lambda L: L.Bidirectional(L.SimpleRNN(3, return_sequences=True),
                                             merge_mode=None),
    "bi_lstm_none_state": lambda L: L.Bidirectional(
        L.LSTM(3, return_sequences=True, return_state=True), merge_mode=None),
    "bi_gru_concat_state": lambda L: L.Bidirectional(L.GRU(3, return_state=True)),
    "bi_backward_layer": lambda L: L.Bidirectional(
        L.LSTM(3, return_sequences=True),
        backward_layer=L.LSTM(3, return_sequences=True, go_backwards=True,
                              activation="softsign")),
}


@pytest.mark.parametrize("case", sorted(LAYERS))
def test_recurrent_layer(K, case):
    model, xs = _one(K, LAYERS[case])
    g = check(model, xs)
    rec = [n for n in g.nodes if n.op in ("RNN", "GRU", "LSTM")]
    assert len(rec) == 1 and rec[0].attrs["layout"] == 1
    assert "Transpose" not in [n.op for n in g.nodes]


def test_gate_attributes(K):
    """GRU reset_after -> linear_before_reset; Bidirectional -> one bidirectional node; go_back
    -> reverse; Keras' activations as ONNX's."""
    g = check(*_one(K, LAYERS["gru_reset_after_seq"]))
    assert next(n for n in g.nodes if n.op == "GRU").attrs["linear_before_reset"] is True
    g = check(*_one(K, LAYERS["gru_reset_before_seq"]))
    assert next(n for n in g.nodes if n.op == "GRU").attrs["linear_before_reset"] is False
    g = check(*_one(K, LAYERS["bi_lstm_concat_seq"]))
    assert next(n for n in g.nodes if n.op == "LSTM").attrs["direction"] == "bidirectional"
    g = check(*_one(K, LAYERS["lstm_backwards_seq"]))
    assert next(n for n in g.nodes if n.op == "LSTM").attrs["direction"] == "reverse"
    g = check(*_one(K, LAYERS["lstm_activations"]))
    lstm = next(n for n in g.nodes if n.op == "LSTM")
    assert lstm.attrs["activations"] == ["HardSigmoid", "Softsign", "Softsign"]


def test_conv1d_then_gru_layout(K):
    """A Conv1D output is held NCW in the IR: the GRU gets it back as [batch, time, features]
    (one Transpose), and a Conv1D after it gets NCW again."""
    L = K.layers
    i = K.Input((9, 3))
    x = L.Conv1D(4, 3, padding="same", name="conv")(i)
    x = L.GRU(5, return_sequences=True, name="gru")(x)
    x = L.Conv1D(2, 3, name="conv2")(x)
    m = K.Model(i, L.LSTM(3, name="lstm")(x))
    randomize(m, seed=9)
    g = check(m, [rand(2, 9, 3)])
    assert g.inputs[0].attrs["_source_perm"] == [0, 2, 1]
    ops = [n.op for n in g.nodes]
    assert ops.count("Transpose") == 3, ops    # into the GRU, into conv2, into the LSTM
    gru_in = next(n for n in g.nodes if n.op == "GRU").inputs[0]
    assert g.node(gru_in).op == "Transpose"


def test_embedding_lstm_dense(K):
    model, xs = embedding_lstm(K)
    randomize(model, seed=3)
    g = check(model, xs)
    assert g.inputs[0].attrs["dtype"] == "int32"
    gather = next(n for n in g.nodes if n.op == "Gather")
    assert g.node(gather.inputs[0]).op == "Constant" and gather.inputs[1] == g.inputs[0].name


def test_embedding_int64_and_float_ids(K):
    L = K.layers
    for dtype in ("int64", "float32"):
        i = K.Input((5,), dtype=dtype)
        emb = L.Embedding(6, 3)
        m = K.Model(i, emb(i))
        emb.embeddings.assign(rand(6, 3, seed=4))
        ids = np.random.default_rng(1).integers(0, 6, (2, 5)).astype(dtype)
        g = check(m, [ids])
        assert g.inputs[0].attrs["dtype"] == dtype
        assert ("Cast" in [n.op for n in g.nodes]) == (dtype == "float32")


def test_embedding_mask_zero_unused(K):
    """mask_zero=True is fine when no layer reads the mask."""
    L = K.layers
    i = K.Input((5,), dtype="int32")
    emb = L.Embedding(6, 3, mask_zero=True)
    m = K.Model(i, L.Dense(2)(emb(i)))
    emb.embeddings.assign(rand(6, 3, seed=4))
    check(m, [np.array([[0, 1, 2, 0, 5], [3, 0, 4, 1, 1]], np.int32)])


def test_initial_state_from_tensors(K):
    """Encoder-decoder: the encoder's states feed the decoder's initial_state (bound to the IR
    op's initial_h / initial_c inputs); a GRU and a Bidirectional with initial states too."""
    L = K.layers
    enc_in, dec_in = K.Input((6, 4), name="enc"), K.Input((5, 3), name="dec")
    _, h, c = L.LSTM(5, return_state=True, name="encoder")(enc_in)
    y = L.LSTM(5, return_sequences=True, name="decoder")(dec_in, initial_state=[h, c])
    gh = L.Dense(4, name="to_gru")(h)
    z = L.GRU(4, go_backwards=True, name="gru")(dec_in, initial_state=gh)
    bh = L.Dense(3, name="to_bi")(h)
    w = L.Bidirectional(L.GRU(3, return_sequences=True), name="bi")(
        dec_in, initial_state=[bh, L.Dense(3, name="to_bi_back")(h)])
    m = K.Model([enc_in, dec_in], [y, z, w])
    randomize(m, seed=6)
    g = check(m, [rand(2, 6, 4, seed=1), rand(2, 5, 3, seed=2)])
    dec = next(n for n in g.nodes if n.attrs.get("_source_name") == "decoder")
    node = g.node(g.node(dec.name).inputs[0]) if dec.op != "LSTM" else dec
    assert node.attrs["weight_inputs"] == ["initial_h", "initial_c"]


def test_stateful_refused(K):
    """A stateful LSTM is refused: one issue, at the layer, saying why."""
    from nnrosetta_frontend_tf.keras_import import convert_keras

    L = K.layers
    i = K.Input(batch_shape=(2, 6, 4))
    x = L.LSTM(4, stateful=True, return_sequences=True, name="memory")(i)
    m = K.Model(i, L.Dense(2, name="head")(x))
    conv = convert_keras(m, {})
    assert [(x.code, x.location) for x in conv.issues] == [("UNSUPPORTED_ATTRIBUTE", "memory")]
    assert "stateful=True" in conv.issues[0].message
    assert conv.status.name == "UNIMPLEMENTED"


def test_unsupported_activation_refused(K):
    from nnrosetta_frontend_tf.keras_import import convert_keras

    L = K.layers
    i = K.Input((6, 4))
    m = K.Model(i, L.SimpleRNN(3, activation="selu", name="odd")(i))
    conv = convert_keras(m, {})
    assert [(x.code, x.location) for x in conv.issues] == [("UNSUPPORTED_ACTIVATION", "odd")]
    assert "selu" in conv.issues[0].message


def test_mask_refused(K):
    """Embedding(mask_zero=True) feeding an LSTM: the mask changes Keras' result and the IR
    cannot express it; the Embedding says so (Keras 3 also lists the mask's ops.NotEqual)."""
    from nnrosetta_frontend_tf.keras_import import convert_keras

    L = K.layers
    i = K.Input((5,), dtype="int32")
    x = L.Embedding(7, 3, mask_zero=True, name="emb")(i)
    m = K.Model(i, L.LSTM(2, name="lstm")(x))
    conv = convert_keras(m, {})
    by_loc = {x.location: x for x in conv.issues}
    assert by_loc["emb"].code == "UNSUPPORTED_ATTRIBUTE"
    assert "mask" in by_loc["emb"].message and "lstm" in by_loc["emb"].message
    assert "lstm" not in by_loc          # not converted after its input failed: not listed
    assert conv.status.name == "UNIMPLEMENTED"


def test_recurrent_model_through_pytorch(K, tmp_path):
    """Embedding -> Bidirectional LSTM -> GRU(go_backwards, reset_after=False) -> Dense: IR ->
    backend-pytorch (generated model.py, weights.pth) matches TensorFlow."""
    svc = str(ROOT / "services" / "backend-pytorch")
    if svc not in sys.path:
        sys.path.insert(0, svc)
    import torch

    from nnrosetta_backend_pytorch.service import (
        MODEL_PY,
        WEIGHTS_PTH,
        PyTorchBackend,
        import_generated,
    )
    from tests.frontend_tf._keras import to_ir

    m = recurrent_model(K)
    ids = np.random.default_rng(2).integers(0, 9, (2, 6)).astype(np.int32)
    ref = np.asarray(m(ids, training=False))
    graph, weights = to_ir(m)
    files = {}
    for item in PyTorchBackend().from_ir(graph, weights, {}, str(tmp_path)):
        if not hasattr(item, "stage"):
            files[item[0]] = item[1]
    mod = import_generated(files[MODEL_PY])
    model = mod.Model()
    model.load_state_dict(torch.load(files[WEIGHTS_PTH], weights_only=True), strict=True)
    model.eval()
    with torch.no_grad():
        out = model(torch.from_numpy(ids))
    out = out[0] if isinstance(out, (list, tuple)) else out
    err = rel_err(out.numpy(), ref)
    assert err <= 1e-4, err


@pytest.mark.parametrize("ext", ["keras", "h5"])
def test_saved_file_through_service(K, tmp_path, ext):
    """Saved as .keras / Keras-3 .h5 and converted as the service does (weights read from
    variables the load left uninitialized): Keras' numbers; Run reads the layer outputs."""
    from nnrosetta.ir import registry
    from nnrosetta.ir.graph import Graph
    from nnrosetta.rpc.converter import Model
    from nnrosetta_frontend_tf import TFConverter

    m = recurrent_model(K)
    ids = np.random.default_rng(2).integers(0, 9, (2, 6)).astype(np.int32)
    ref = np.asarray(m(ids, training=False))
    path = tmp_path / f"recurrent.{ext}"
    m.save(path)
    conv = TFConverter()
    model = Model("keras", files={"network": str(path)})
    items = list(conv.to_ir(model))
    graph = next(i for i in items if isinstance(i, Graph))
    weights = dict(i for i in items if isinstance(i, tuple))
    assert graph.inputs[0].attrs["dtype"] == "int32"
    got = registry.run_reference(graph, weights, {graph.inputs[0].name: ids})
    assert rel_err(got[graph.outputs[0]], ref) <= 1e-4
    outs, _ = conv.run(model, {graph.inputs[0].name: ids}, ["bilstm", "head"])
    assert outs[0][1].shape == (2, 6, 6)
    assert rel_err(outs[1][1], ref) <= 1e-5
