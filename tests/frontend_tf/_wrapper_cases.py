"""The RNN(cell) and TimeDistributed cases of test_wrappers.py: each builds a small Keras model
and its inputs; plus the models the frontend must refuse. No pytest here: the
frontend-tf-legacy venv (Keras 2) runs ``python -m tests.frontend_tf._wrapper_cases`` and
prints one JSON line (``RESULT {...}``) that test_wrappers.py reads."""

from __future__ import annotations

from tests.frontend_tf._keras import rand


def seq(shape, *makers):
    """A case: one input of (Keras) shape, then the layers made by ``makers(L)``."""
    def build(K):
        L = K.layers
        i = K.Input(shape, name="x")
        x = i
        for mk in makers:
            x = mk(L)(x)
        return K.Model(i, x), [rand(2, *shape, seed=2)]
    return build


def encoder_decoder(K):
    """RNN(LSTMCell) encoder states -> RNN(LSTMCell) decoder initial_state, RNN(GRUCell) with
    an initial state from a Dense."""
    L = K.layers
    enc_in, dec_in = K.Input((6, 4), name="enc"), K.Input((5, 3), name="dec")
    _, h, c = L.RNN(L.LSTMCell(5), return_state=True, name="encoder")(enc_in)
    y = L.RNN(L.LSTMCell(5), return_sequences=True, name="decoder")(dec_in,
                                                                    initial_state=[h, c])
    g0 = L.Dense(4, name="to_gru")(h)
    z = L.RNN(L.GRUCell(4), go_backwards=True, name="gru")(dec_in, initial_state=g0)
    return K.Model([enc_in, dec_in], [y, z]), [rand(2, 6, 4, seed=1), rand(2, 5, 3, seed=2)]


def video_classifier(K):
    """Frames -> TimeDistributed(Conv2D, BatchNormalization, Activation, MaxPooling2D,
    Flatten) -> RNN(LSTMCell) -> Dense: the usual CNN + RNN video model."""
    L = K.layers
    i = K.Input((4, 9, 9, 3), name="frames")
    x = L.TimeDistributed(L.Conv2D(6, 3, strides=2, padding="same"), name="td_conv")(i)
    x = L.TimeDistributed(L.BatchNormalization(epsilon=1e-2), name="td_bn")(x)
    x = L.TimeDistributed(L.Activation("relu"), name="td_relu")(x)
    x = L.TimeDistributed(L.Conv2D(5, 3, padding="same"), name="td_conv2")(x)
    x = L.TimeDistributed(L.MaxPooling2D(), name="td_pool")(x)
    x = L.TimeDistributed(L.Flatten(), name="td_flat")(x)
    x = L.TimeDistributed(L.Dropout(0.4), name="td_drop")(x)
    x = L.RNN(L.LSTMCell(6), name="rnn")(x)
    return K.Model(i, L.Dense(3, name="head")(x)), [rand(2, 4, 9, 9, 3, seed=3)]


RNN_CASES = {
    "rnn_simple_seq": seq((6, 4), lambda L: L.RNN(L.SimpleRNNCell(5), return_sequences=True)),
    "rnn_simple_last_relu": seq((6, 4), lambda L: L.RNN(L.SimpleRNNCell(4, activation="relu"))),
    "rnn_simple_state_backwards": seq((6, 4), lambda L: L.RNN(
        L.SimpleRNNCell(4), return_state=True, go_backwards=True)),
    "rnn_gru_reset_after_seq": seq((6, 4), lambda L: L.RNN(L.GRUCell(5, reset_after=True),
                                                           return_sequences=True)),
    "rnn_gru_reset_before_seq": seq((6, 4), lambda L: L.RNN(L.GRUCell(5, reset_after=False),
                                                            return_sequences=True)),
    "rnn_gru_reset_before_backwards_state": seq((6, 4), lambda L: L.RNN(
        L.GRUCell(3, reset_after=False), go_backwards=True, return_sequences=True,
        return_state=True)),
    "rnn_gru_no_bias_last": seq((6, 4), lambda L: L.RNN(L.GRUCell(3, use_bias=False))),
    "rnn_lstm_seq": seq((6, 4), lambda L: L.RNN(L.LSTMCell(5), return_sequences=True)),
    "rnn_lstm_last": seq((6, 4), lambda L: L.RNN(L.LSTMCell(5))),
    "rnn_lstm_state": seq((6, 4), lambda L: L.RNN(L.LSTMCell(5), return_state=True)),
    "rnn_lstm_seq_state": seq((6, 4), lambda L: L.RNN(L.LSTMCell(5), return_sequences=True,
                                                      return_state=True)),
    "rnn_lstm_backwards_seq": seq((6, 4), lambda L: L.RNN(L.LSTMCell(4), go_backwards=True,
                                                          return_sequences=True)),
    "rnn_lstm_backwards_last": seq((6, 4), lambda L: L.RNN(L.LSTMCell(4), go_backwards=True)),
    "rnn_lstm_activations": seq((6, 4), lambda L: L.RNN(
        L.LSTMCell(4, activation="softsign", recurrent_activation="hard_sigmoid",
                   use_bias=False), return_sequences=True)),
    "rnn_lstm_unroll_dropout": seq((6, 4), lambda L: L.RNN(
        L.LSTMCell(4, dropout=0.3, recurrent_dropout=0.2), unroll=True)),
    "bi_rnn_lstm_concat_seq": seq((6, 4), lambda L: L.Bidirectional(
        L.RNN(L.LSTMCell(3), return_sequences=True))),
    "bi_rnn_gru_sum_last": seq((6, 4), lambda L: L.Bidirectional(
        L.RNN(L.GRUCell(3)), merge_mode="sum")),
    "bi_rnn_simple_none_state": seq((6, 4), lambda L: L.Bidirectional(
        L.RNN(L.SimpleRNNCell(3), return_sequences=True, return_state=True),
        merge_mode=None)),
    "rnn_encoder_decoder": encoder_decoder,
}

TD_CASES = {
    "td_dense_seq": seq((6, 4), lambda L: L.TimeDistributed(L.Dense(3, activation="tanh"))),
    "td_dense_rank4": seq((5, 3, 4), lambda L: L.TimeDistributed(L.Dense(2))),
    "td_dense_after_rnn": seq((6, 4), lambda L: L.RNN(L.GRUCell(5), return_sequences=True),
                              lambda L: L.TimeDistributed(L.Dense(3))),
    "td_activation_softmax": seq((6, 4), lambda L: L.TimeDistributed(L.Activation("softmax"))),
    "td_conv2d_same_s2": seq((3, 7, 9, 2), lambda L: L.TimeDistributed(
        L.Conv2D(4, 3, strides=2, padding="same", activation="relu"))),
    "td_conv2d_flatten": seq((3, 6, 6, 2), lambda L: L.TimeDistributed(L.Conv2D(3, 2)),
                             lambda L: L.TimeDistributed(L.Flatten())),
    "td_conv2d_flatten_dense": seq((3, 6, 6, 2), lambda L: L.TimeDistributed(L.Conv2D(3, 2)),
                                   lambda L: L.TimeDistributed(L.Flatten()),
                                   lambda L: L.TimeDistributed(L.Dense(4))),
    "td_maxpool": seq((3, 8, 7, 2), lambda L: L.TimeDistributed(L.MaxPooling2D())),
    "td_maxpool_same": seq((3, 7, 7, 2), lambda L: L.TimeDistributed(
        L.MaxPooling2D(3, strides=2, padding="same"))),
    "td_avgpool_gap": seq((3, 6, 6, 2), lambda L: L.TimeDistributed(L.AveragePooling2D(2)),
                          lambda L: L.TimeDistributed(L.GlobalAveragePooling2D())),
    "td_flatten_image": seq((3, 4, 5, 2), lambda L: L.TimeDistributed(L.Flatten())),
    "td_batchnorm_seq": seq((6, 4), lambda L: L.TimeDistributed(L.BatchNormalization())),
    "td_batchnorm_image": seq((3, 4, 4, 3), lambda L: L.TimeDistributed(
        L.BatchNormalization(epsilon=1e-2))),
    "td_dropout": seq((6, 4), lambda L: L.TimeDistributed(L.Dropout(0.5))),
    "td_conv1d": seq((3, 8, 2), lambda L: L.TimeDistributed(L.Conv1D(4, 3, padding="same"))),
    "td_layernorm": seq((3, 4, 5), lambda L: L.TimeDistributed(L.LayerNormalization())),
    "td_video_classifier": video_classifier,
    # the other inner layers that run on [batch * time, ...]
    "td_pad_upsample_crop": seq((3, 4, 5, 2), lambda L: L.TimeDistributed(L.ZeroPadding2D(1)),
                                lambda L: L.TimeDistributed(L.UpSampling2D(2)),
                                lambda L: L.TimeDistributed(L.Cropping2D(((1, 0), (2, 1))))),
    "td_depthwise_separable": seq((3, 7, 7, 3), lambda L: L.TimeDistributed(
        L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2)),
        lambda L: L.TimeDistributed(L.SeparableConv2D(4, 3, padding="same"))),
    "td_conv2d_transpose": seq((3, 4, 5, 2), lambda L: L.TimeDistributed(
        L.Conv2DTranspose(3, 3, strides=2, padding="same"))),
    "td_reshape_softmax_axis1": seq((3, 4, 6), lambda L: L.TimeDistributed(L.Reshape((3, 8))),
                                    lambda L: L.TimeDistributed(L.Softmax(axis=1))),
    "td_prelu_rescaling": seq((3, 4, 4, 2), lambda L: L.TimeDistributed(L.PReLU()),
                              lambda L: L.TimeDistributed(L.Rescaling(0.5, offset=0.1))),
    "td_conv1d_global_max": seq((3, 8, 2), lambda L: L.TimeDistributed(L.Conv1D(3, 3)),
                                lambda L: L.TimeDistributed(L.GlobalMaxPooling1D())),
}

CASES = {**RNN_CASES, **TD_CASES}


# -- what is refused -------------------------------------------------------------------------

def _custom_cell_class(K):
    L = K.layers

    class MinimalCell(L.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.built = True

        def call(self, inputs, states):
            h = inputs @ self.kernel + states[0]
            return h, [h]

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return MinimalCell


def _lstm_cell_lookalike(K):
    class LSTMCell(K.layers.LSTMCell):     # Keras' class name, a user's class
        pass

    return LSTMCell


def refused_models(K) -> dict:
    """name -> (model, layer name that must carry the issue, issue code, words the message
    must hold)."""
    L = K.layers
    out = {}

    def one(key, shape, make, code, words, name="wrapped"):
        i = K.Input(shape, name="x")
        y = make(L, name)(i)
        out[key] = (K.Model(i, y), name, code, words)

    one("stacked_cells_list", (6, 4), lambda L, n: L.RNN([L.LSTMCell(3), L.GRUCell(2)],
                                                         name=n),
        "UNSUPPORTED_LAYER", ["StackedRNNCells", "LSTMCell", "GRUCell"])
    one("stacked_cells", (6, 4), lambda L, n: L.RNN(L.StackedRNNCells(
        [L.SimpleRNNCell(3), L.SimpleRNNCell(3)]), return_sequences=True, name=n),
        "UNSUPPORTED_LAYER", ["StackedRNNCells"])
    one("bi_stacked_cells", (6, 4), lambda L, n: L.Bidirectional(L.RNN(
        [L.LSTMCell(3), L.LSTMCell(3)]), name=n), "UNSUPPORTED_LAYER", ["StackedRNNCells"])
    one("custom_cell", (6, 4), lambda L, n: L.RNN(_custom_cell_class(K)(3), name=n),
        "UNSUPPORTED_LAYER", ["MinimalCell", "custom"])
    one("lookalike_cell", (6, 4), lambda L, n: L.RNN(_lstm_cell_lookalike(K)(3), name=n),
        "UNSUPPORTED_LAYER", ["LSTMCell", "not Keras'"])
    one("td_lstm", (3, 5, 4), lambda L, n: L.TimeDistributed(L.LSTM(2), name=n),
        "UNSUPPORTED_LAYER", ["TimeDistributed", "LSTM"])
    one("td_embedding", (3, 5), lambda L, n: L.TimeDistributed(L.Embedding(7, 2), name=n),
        "UNSUPPORTED_LAYER", ["TimeDistributed", "Embedding"])
    one("td_rnn", (3, 5, 4), lambda L, n: L.TimeDistributed(L.RNN(L.LSTMCell(2)), name=n),
        "UNSUPPORTED_LAYER", ["TimeDistributed", "RNN"])
    # stateful needs a fixed batch
    i = K.Input(batch_shape=(2, 6, 4), name="x")
    y = L.RNN(L.GRUCell(3), stateful=True, return_sequences=True, name="memory")(i)
    out["stateful"] = (K.Model(i, y), "memory", "UNSUPPORTED_ATTRIBUTE", ["stateful=True"])
    return out


def refusals(K) -> dict:
    """name -> [(code, location), ...] of each refused model, and whether the message of the
    issue at the layer names the layer and holds the expected words."""
    from nnrosetta_frontend_tf.keras_import import convert_keras

    res = {}
    for key, (model, name, code, words) in refused_models(K).items():
        conv = convert_keras(model, {})
        issues = [(i.code, i.location) for i in conv.issues]
        msg = next((i.message for i in conv.issues if i.location == name), "")
        res[key] = {"issues": issues, "want": [(code, name)],
                    "message_ok": repr(name) in msg and all(w in msg for w in words),
                    "message": msg, "status": conv.status.name}
    return res


SCAN_REFUSED = ["bi_stacked", "custom", "stacked", "td_lstm"]


def scan_model(K):
    """Supported wrappers (ok_*) and refused ones, for the file scan."""
    L = K.layers
    i = K.Input((6, 4), name="x")
    x = L.RNN(L.LSTMCell(3), return_sequences=True, name="ok_rnn")(i)
    x = L.RNN([L.GRUCell(3), L.GRUCell(3)], return_sequences=True, name="stacked")(x)
    x = L.RNN(_custom_cell_class(K)(3), return_sequences=True, name="custom")(x)
    x = L.Bidirectional(L.RNN([L.LSTMCell(2), L.LSTMCell(2)], return_sequences=True),
                        name="bi_stacked")(x)
    x = L.TimeDistributed(L.Dense(2), name="ok_td")(x)
    x = L.Reshape((6, 2, 1), name="shape")(x)
    return K.Model(i, L.TimeDistributed(L.LSTM(2), name="td_lstm")(x))


def scan(K, work) -> dict:
    """The file scan (before Keras loads the file) of ``scan_model`` saved as .h5, and as
    .keras (Keras 3) or a SavedModel folder (Keras 2): ext -> sorted [(code, location)], and
    every message."""
    from pathlib import Path

    from nnrosetta.rpc.converter import Model
    from nnrosetta_frontend_tf import TFConverter

    conv = TFConverter()
    m = scan_model(K)
    out = {}
    keras2 = K.__version__.startswith("2.")
    for ext in ("h5", "savedmodel") if keras2 else ("keras", "h5"):
        path = Path(work) / f"scan.{ext}"
        m.save(path, **({"save_format": "tf"} if ext == "savedmodel" else {}))
        issues, graph = conv.check(Model("keras", files={"network": str(path)}))
        out[ext] = {"issues": sorted([i.code, i.location] for i in issues),
                    "messages": {i.location: i.message for i in issues},
                    "graph": graph is not None}
    return out


def main() -> int:
    import json
    import traceback

    from tests.frontend_tf._keras import check, keras, randomize

    K = keras()
    result: dict = {"keras": K.__version__, "ok": [], "failed": {}}
    try:
        for name, build in sorted(CASES.items()):
            try:
                model, xs = build(K)
                randomize(model, seed=len(name))
                check(model, xs, tol=1e-5)
                result["ok"].append(name)
            except Exception as e:  # noqa: BLE001 - reported to the test
                result["failed"][name] = f"{type(e).__name__}: {str(e)[:400]}"
        result["refusals"] = refusals(K)
        import tempfile

        with tempfile.TemporaryDirectory() as work:
            result["scan"] = scan(K, work)
    except Exception:  # noqa: BLE001 - the test shows it
        result["error"] = traceback.format_exc()
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
