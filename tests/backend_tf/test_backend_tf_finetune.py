"""Transfer learning, MMdnn's point: the generated Keras model loads, compiles and trains.
The whole model fine-tunes (BatchNormalization updates its statistics, Dropout is active), and
a new classifier on the converted features trains with the converted layers frozen."""

from __future__ import annotations

import keras
import numpy as np

from nnrosetta.ir import registry
from nnrosetta_backend_tf.service import MODEL_KERAS

from ._cases import CASES, close, feeds
from .test_backend_tf_files import convert, nhwc


def data(n: int = 32, classes: int = 5, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 8, 8, 3)).astype(np.float32)
    y = rng.integers(0, classes, n)
    return x, y


def test_fine_tune_whole_model(backend, tmp_path):
    g, w = CASES["caffe_like"]()
    files, _ = convert(backend, g, w, tmp_path, artifacts="keras")
    net = keras.models.load_model(files[MODEL_KERAS])
    x0 = feeds(g)
    close(net.predict(nhwc(x0["data"]), verbose=0), registry.run_reference(g, w, x0)["prob"])
    bn = net.get_layer("bn")
    before = bn.moving_mean.numpy().copy()
    frozen = net.get_layer("conv1_7x7_s2").kernel.numpy().copy()
    net.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    x, y = data()
    first = float(net.evaluate(x, y, verbose=0))
    hist = net.fit(x, y, epochs=15, batch_size=16, verbose=0)
    last = float(net.evaluate(x, y, verbose=0))
    assert last < first * 0.8, (first, last, hist.history["loss"])
    assert not np.allclose(bn.moving_mean.numpy(), before)       # trained statistics
    assert not np.allclose(net.get_layer("conv1_7x7_s2").kernel.numpy(), frozen)
    train = net(x[:4], training=True).numpy()
    assert not np.allclose(train, net(x[:4], training=False).numpy())   # Dropout is on


def test_new_classifier_on_frozen_features(backend, tmp_path):
    g, w = CASES["caffe_like"]()
    files, _ = convert(backend, g, w, tmp_path, artifacts="keras")
    base = keras.models.load_model(files[MODEL_KERAS])
    features = base.get_layer("loss3_classifier").input    # the flattened features
    head = keras.layers.Dense(3, activation="softmax", name="new_classifier")(features)
    model = keras.Model(base.input, head)
    for layer in model.layers[:-1]:
        layer.trainable = False
    kernel = base.get_layer("inception_3a_3x3").kernel.numpy().copy()
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    x, y = data(classes=3, seed=2)
    first = float(model.evaluate(x, y, verbose=0))
    model.fit(x, y, epochs=20, batch_size=16, verbose=0)
    assert float(model.evaluate(x, y, verbose=0)) < first * 0.8
    np.testing.assert_array_equal(base.get_layer("inception_3a_3x3").kernel.numpy(), kernel)
