"""The table of Keras layer cases: each builds a small model around one layer (or a few)
and its inputs. Used by test_layers.py (Keras 3) and, in the legacy venv, by
_legacy_driver.py (Keras 2). No pytest here: the legacy venv runs it as a plain script."""

from __future__ import annotations

from tests.frontend_tf._keras import rand


def seq(shape, *makers):
    """A case: one input of (Keras) shape, then the layers made by ``makers(L)``."""
    def build(K):
        L = K.layers
        i = K.Input(shape)
        x = i
        for mk in makers:
            x = mk(L)(x)
        return K.Model(i, x), [rand(2, *shape)]
    return build


CASES = {
    # convolutions
    "conv2d_valid": seq((9, 9, 3), lambda L: L.Conv2D(4, 3)),
    "conv2d_same_s2_odd": seq((7, 9, 3), lambda L: L.Conv2D(5, 3, strides=2, padding="same")),
    "conv2d_same_k4_s3": seq((10, 11, 2), lambda L: L.Conv2D(3, (4, 2), strides=(3, 2),
                                                             padding="same")),
    "conv2d_dilated": seq((12, 12, 3), lambda L: L.Conv2D(4, 3, dilation_rate=2,
                                                          padding="same", activation="relu")),
    "conv2d_groups": seq((8, 8, 4), lambda L: L.Conv2D(6, 3, groups=2, use_bias=False)),
    "conv1d_same": seq((11, 3), lambda L: L.Conv1D(4, 3, strides=2, padding="same")),
    "conv1d_causal": seq((10, 3), lambda L: L.Conv1D(4, 3, padding="causal", dilation_rate=2)),
    "conv3d": seq((5, 6, 7, 2), lambda L: L.Conv3D(3, 2, padding="same", strides=2)),
    "depthwise2d": seq((9, 9, 3), lambda L: L.DepthwiseConv2D(3, strides=2, padding="same",
                                                              depth_multiplier=2)),
    "depthwise1d": seq((9, 3), lambda L: L.DepthwiseConv1D(3, padding="same")),
    "separable2d": seq((8, 8, 3), lambda L: L.SeparableConv2D(5, 3, padding="same",
                                                              depth_multiplier=2,
                                                              activation="relu6")),
    "separable1d": seq((10, 3), lambda L: L.SeparableConv1D(4, 3, strides=2)),
    "conv2dT_valid": seq((5, 6, 3), lambda L: L.Conv2DTranspose(4, 3, strides=2)),
    "conv2dT_same": seq((5, 6, 3), lambda L: L.Conv2DTranspose(4, 3, strides=2,
                                                               padding="same")),
    "conv2dT_k1_s2": seq((4, 4, 3), lambda L: L.Conv2DTranspose(2, 1, strides=2)),
    "conv2dT_outpad": seq((4, 5, 3), lambda L: L.Conv2DTranspose(2, 3, strides=2,
                                                                 padding="same",
                                                                 output_padding=1)),
    "conv2dT_dilated": seq((5, 5, 2), lambda L: L.Conv2DTranspose(3, 3, dilation_rate=2)),
    "conv1dT": seq((6, 3), lambda L: L.Conv1DTranspose(4, 4, strides=2, padding="same")),
    "conv3dT": seq((3, 4, 4, 2), lambda L: L.Conv3DTranspose(2, 2, strides=2)),
    # dense
    "dense": seq((7,), lambda L: L.Dense(5, activation="tanh")),
    "dense_on_image": seq((4, 5, 3), lambda L: L.Conv2D(4, 1), lambda L: L.Dense(6)),
    "dense_on_sequence": seq((6, 5), lambda L: L.Dense(4, activation="gelu")),
    "dense_on_1d_conv": seq((6, 5), lambda L: L.Conv1D(4, 3), lambda L: L.Dense(3)),
    # normalization
    "batchnorm_image": seq((5, 5, 4), lambda L: L.Conv2D(4, 1),
                           lambda L: L.BatchNormalization(epsilon=1e-2)),
    "batchnorm_flat": seq((6,), lambda L: L.BatchNormalization(center=False)),
    "batchnorm_noscale": seq((4, 4, 3), lambda L: L.BatchNormalization(scale=False)),
    "batchnorm_axis1_seq": seq((4, 6), lambda L: L.BatchNormalization(axis=1)),
    "layernorm_flat": seq((8,), lambda L: L.LayerNormalization()),
    "layernorm_channels": seq((4, 5, 6), lambda L: L.Conv2D(6, 1),
                              lambda L: L.LayerNormalization(epsilon=1e-5)),
    "layernorm_hwc": seq((4, 5, 6), lambda L: L.LayerNormalization(axis=[1, 2, 3])),
    "layernorm_seq": seq((5, 6), lambda L: L.LayerNormalization(center=False)),
    "groupnorm": seq((4, 4, 6), lambda L: L.GroupNormalization(groups=3)),
    "unitnorm": seq((4, 4, 6), lambda L: L.UnitNormalization()),
    # activations
    **{f"act_{a}": seq((4, 4, 3), lambda L, a=a: L.Activation(a)) for a in (
        "relu", "relu6", "sigmoid", "tanh", "softmax", "swish", "silu", "gelu", "elu",
        "selu", "softplus", "softsign", "hard_sigmoid", "linear", "exponential", "mish",
        "log_softmax", "leaky_relu", "hard_silu", "celu", "hard_tanh")},
    "relu_max": seq((4, 4, 3), lambda L: L.ReLU(max_value=6.0)),
    "relu_max_1": seq((4, 4, 3), lambda L: L.ReLU(max_value=1.0)),
    "relu_slope": seq((4, 4, 3), lambda L: L.ReLU(negative_slope=0.1)),
    "relu_slope_max": seq((4, 4, 3), lambda L: L.ReLU(max_value=1.5, negative_slope=0.2)),
    "relu_threshold": seq((4, 4, 3), lambda L: L.ReLU(threshold=0.5)),
    "relu_all": seq((4, 4, 3), lambda L: L.ReLU(max_value=2.0, negative_slope=0.1,
                                                threshold=0.3)),
    "leaky_relu": seq((6,), lambda L: L.LeakyReLU(0.2)),
    "prelu_shared": seq((4, 4, 3), lambda L: L.PReLU(shared_axes=[1, 2])),
    "prelu_full": seq((4, 4, 3), lambda L: L.PReLU()),
    "prelu_flat": seq((5,), lambda L: L.PReLU()),
    "elu": seq((6,), lambda L: L.ELU(alpha=0.5)),
    "softmax_last": seq((3, 4, 5), lambda L: L.Softmax()),
    "softmax_axis1": seq((3, 4, 5), lambda L: L.Softmax(axis=1)),
    # pooling
    "maxpool_valid": seq((8, 9, 3), lambda L: L.MaxPooling2D()),
    "maxpool_same": seq((7, 7, 3), lambda L: L.MaxPooling2D(3, strides=2, padding="same")),
    "avgpool_same": seq((7, 8, 3), lambda L: L.AveragePooling2D(3, strides=2, padding="same")),
    "avgpool_valid": seq((8, 8, 3), lambda L: L.AveragePooling2D(2)),
    "pool1d": seq((9, 3), lambda L: L.MaxPooling1D(2, padding="same"),
                  lambda L: L.AveragePooling1D(3, strides=1, padding="same")),
    "pool3d": seq((4, 5, 6, 2), lambda L: L.AveragePooling3D(2, padding="same")),
    "gap2d": seq((5, 6, 3), lambda L: L.GlobalAveragePooling2D()),
    "gap2d_keepdims": seq((5, 6, 3), lambda L: L.GlobalAveragePooling2D(keepdims=True)),
    "gmp2d": seq((5, 6, 3), lambda L: L.GlobalMaxPooling2D()),
    "gap1d": seq((7, 3), lambda L: L.Conv1D(3, 1), lambda L: L.GlobalAveragePooling1D()),
    "gmp1d_keepdims": seq((7, 3), lambda L: L.GlobalMaxPooling1D(keepdims=True)),
    # shape
    "zeropad2d": seq((4, 5, 2), lambda L: L.ZeroPadding2D(((1, 2), (0, 3)))),
    "zeropad1d": seq((4, 2), lambda L: L.ZeroPadding1D(2)),
    "cropping2d": seq((6, 7, 2), lambda L: L.Cropping2D(((1, 2), (2, 1)))),
    "cropping1d": seq((6, 2), lambda L: L.Cropping1D((1, 2))),
    "upsample2d": seq((3, 4, 2), lambda L: L.UpSampling2D((2, 3))),
    "upsample2d_bilinear": seq((3, 4, 2), lambda L: L.UpSampling2D(2,
                                                                   interpolation="bilinear")),
    "upsample1d": seq((3, 2), lambda L: L.UpSampling1D(3)),
    "flatten_dense": seq((4, 5, 3), lambda L: L.Conv2D(3, 1), lambda L: L.Flatten(),
                         lambda L: L.Dense(4)),
    "flatten_dropout_dense": seq((3, 4, 2), lambda L: L.Flatten(), lambda L: L.Dropout(0.3),
                                 lambda L: L.Dense(4)),
    "flatten_out": seq((3, 4, 2), lambda L: L.Flatten()),
    "flatten_relu": seq((3, 4, 2), lambda L: L.Flatten(), lambda L: L.ReLU()),
    "reshape_to_flat": seq((3, 4, 2), lambda L: L.Reshape((-1,))),
    "reshape_image": seq((3, 4, 2), lambda L: L.Reshape((4, 3, 2))),
    "reshape_to_image": seq((12,), lambda L: L.Reshape((2, 3, 2)), lambda L: L.Conv2D(2, 1)),
    "permute": seq((3, 4, 2), lambda L: L.Permute((3, 1, 2)), lambda L: L.Conv2D(2, 1)),
    "permute_seq_dense": seq((3, 5), lambda L: L.Permute((2, 1)), lambda L: L.Dense(2)),
    "repeat_vector": seq((5,), lambda L: L.RepeatVector(3)),
    # identities and scaling
    "dropouts": seq((4, 4, 3), lambda L: L.Dropout(0.5), lambda L: L.SpatialDropout2D(0.2),
                    lambda L: L.GaussianNoise(0.3), lambda L: L.GaussianDropout(0.1),
                    lambda L: L.ActivityRegularization()),
    "rescaling": seq((4, 4, 3), lambda L: L.Rescaling(1 / 127.5, offset=-1)),
    "rescaling_per_channel": seq((4, 4, 3), lambda L: L.Rescaling([0.5, 2.0, 3.0],
                                                                  offset=[0.1, 0.2, 0.3])),
    # recurrent (Keras [batch, time, features]; IR RNN / GRU / LSTM with layout 1)
    "lstm_seq": seq((6, 4), lambda L: L.LSTM(5, return_sequences=True)),
    "lstm_last_backwards": seq((6, 4), lambda L: L.LSTM(5, go_backwards=True)),
    "gru_reset_after": seq((6, 4), lambda L: L.GRU(4, return_sequences=True)),
    "gru_reset_before_backwards": seq((6, 4), lambda L: L.GRU(4, reset_after=False,
                                                              go_backwards=True,
                                                              return_sequences=True)),
    "simple_rnn": seq((5, 3), lambda L: L.SimpleRNN(4)),
    "bidirectional_lstm_concat": seq((5, 3), lambda L: L.Bidirectional(
        L.LSTM(3, return_sequences=True))),
    "bidirectional_gru_sum": seq((5, 3), lambda L: L.Bidirectional(L.GRU(3),
                                                                   merge_mode="sum")),
    "conv1d_gru": seq((7, 3), lambda L: L.Conv1D(4, 3, padding="same"),
                      lambda L: L.GRU(3, return_sequences=True), lambda L: L.Conv1D(2, 1)),
}


def merges(K):
    L = K.layers
    a, b = K.Input((4, 5, 3), name="a"), K.Input((4, 5, 3), name="b")
    c = K.Input((4, 5, 6), name="c")
    ca = L.Conv2D(3, 1, name="ca")(a)
    outs = [L.Add()([ca, b]), L.Subtract()([ca, b]), L.Multiply()([a, b, ca]),
            L.Average()([a, b]), L.Maximum()([a, b]), L.Minimum()([a, b]),
            L.Concatenate()([a, b, c]), L.Concatenate(axis=1)([a, b]),
            L.Concatenate(axis=2)([ca, b])]
    return K.Model([a, b, c], outs), [rand(2, 4, 5, 3, seed=1), rand(2, 4, 5, 3, seed=2),
                                      rand(2, 4, 5, 6, seed=3)]


def se_block(K):
    """Squeeze-and-excitation: (N, C) -> Reshape (1, 1, C) -> Multiply with the image."""
    L = K.layers
    i = K.Input((6, 6, 8))
    x = L.Conv2D(8, 3, padding="same")(i)
    s = L.GlobalAveragePooling2D()(x)
    s = L.Dense(2, activation="relu")(s)
    s = L.Dense(8, activation="sigmoid")(s)
    s = L.Reshape((1, 1, 8))(s)
    return K.Model(i, L.Multiply()([x, s])), [rand(2, 6, 6, 8)]


def nested(K):
    """A Sequential and a Functional model inside a Functional one, a layer shared twice."""
    L = K.layers
    inner = K.Sequential([K.Input((6, 6, 3)), L.Conv2D(4, 3, padding="same", name="c1"),
                          L.BatchNormalization(name="bn"), L.ReLU(name="r")], name="block")
    j = K.Input((6, 6, 4))
    f = K.Model(j, L.Add(name="add")([j, L.Conv2D(4, 1, name="c2")(j)]), name="res")
    i = K.Input((6, 6, 3))
    x = inner(i)
    x = f(x)
    shared = L.Conv2D(4, 1, name="shared")
    y = shared(shared(x))
    y = L.GlobalAveragePooling2D()(y)
    return K.Model(i, L.Dense(3)(y)), [rand(2, 6, 6, 3)]


def sequential(K):
    L = K.layers
    m = K.Sequential([K.Input((8, 8, 3)), L.Conv2D(4, 3, activation="relu"),
                      L.MaxPooling2D(), L.Flatten(), L.Dense(5), L.Softmax()])
    return m, [rand(2, 8, 8, 3)]


def normalization_layer(K):
    L = K.layers
    norm = L.Normalization()
    norm.adapt(rand(20, 4, 4, 3, seed=5) * 3 + 1)
    i = K.Input((4, 4, 3))
    return K.Model(i, L.Conv2D(2, 1)(norm(i))), [rand(2, 4, 4, 3)]


def embedding_lstm(K):
    """Integer token ids -> Embedding -> LSTM -> Dense (the model's Input is int32)."""
    import numpy as np

    L = K.layers
    i = K.Input((7,), dtype="int32", name="tokens")
    emb = L.Embedding(11, 4, name="emb")
    x = L.LSTM(5, return_sequences=True, name="lstm")(emb(i))
    m = K.Model(i, L.Dense(3, name="head")(x))
    rng = np.random.default_rng(7)
    emb.embeddings.assign(rng.normal(0, 1, (11, 4)).astype(np.float32))
    ids = rng.integers(0, 11, (2, 7)).astype(np.int32)
    return m, [ids]


MODELS = {"merges": merges, "se_block": se_block, "nested": nested, "sequential": sequential,
          "normalization": normalization_layer, "embedding_lstm": embedding_lstm}


def small_model(K):
    """A small image classifier (also saved as a Keras-2 .h5 by the legacy test)."""
    L = K.layers
    i = K.Input((8, 8, 3), name="image")
    x = L.Conv2D(4, 3, padding="same", name="conv")(i)
    x = L.BatchNormalization(name="bn")(x)
    x = L.ReLU(name="relu")(x)
    x = L.MaxPooling2D(name="pool")(x)
    x = L.Flatten(name="flat")(x)
    x = L.Dense(3, name="logits")(x)
    m = K.Model(i, x)
    from tests.frontend_tf._keras import randomize

    randomize(m, seed=4)
    return m


def recurrent_model(K):
    """Token ids -> Embedding -> Bidirectional LSTM -> GRU (reset_after=False, go_backwards)
    -> Dense (also saved as a Keras-2 .h5 by the legacy test)."""
    import numpy as np

    L = K.layers
    i = K.Input((6,), dtype="int32", name="ids")
    emb = L.Embedding(9, 4, name="emb")
    x = L.Bidirectional(L.LSTM(3, return_sequences=True), name="bilstm")(emb(i))
    x = L.GRU(4, reset_after=False, go_backwards=True, name="gru")(x)
    m = K.Model(i, L.Dense(2, name="head")(x))
    from tests.frontend_tf._keras import randomize

    randomize(m, seed=12)
    emb.embeddings.assign(np.random.default_rng(12).normal(0, 1, (9, 4)).astype(np.float32))
    return m


def tf_functions(K):
    """Keras 2 only: TensorFlow functions on symbolic tensors (TFOpLambda layers)."""
    import tensorflow as tf

    L = K.layers
    i = K.Input((4, 4, 3))
    x = L.Conv2D(4, 1)(i)
    a = x + 1.0
    b = 2.0 * a - x
    c = tf.nn.relu(b) / 3.0
    d = tf.concat([c, tf.math.sigmoid(a)], axis=-1)
    e = tf.reduce_mean(d, axis=[1, 2], keepdims=True) * d
    f = tf.nn.softmax(tf.reshape(e, (-1, 16, 8)), axis=-1)
    g = tf.maximum(d, 0.1)
    return K.Model(i, [f, g, tf.reduce_max(d, axis=-1)]), [rand(2, 4, 4, 3)]


KERAS2_MODELS = {"tf_functions": tf_functions}
