"""Keras 3 ``model.export()`` SavedModels through the TF graph importer, checked against
TensorFlow running the SavedModel (outputs and every node naming a TF op)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.frontend_tf._keras import randomize
from tests.frontend_tf.test_graph import _convert, check_against_tf


@pytest.fixture(scope="module")
def keras():
    import keras

    return keras


def _export(model, path) -> str:
    randomize(model)
    model.export(str(path), verbose=False)
    return str(path)


def small_model(keras):
    """Keras layers whose TF graphs need care: a Flatten whose shape is computed at run time
    (Shape -> StridedSlice -> Pack), separable / depthwise / transposed convs, GELU (Erfc),
    swish, LayerNormalization, batch norm, a concat of a Dense and a global pool."""
    L = keras.layers
    x = keras.Input((12, 12, 3))
    y = L.ZeroPadding2D(1)(x)
    y = L.Conv2D(8, 3, strides=2, activation="relu")(y)
    y = L.BatchNormalization()(y)
    a = L.SeparableConv2D(8, 3, padding="same", activation="swish")(y)
    b = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2)(y)
    y = L.Concatenate()([a, b])
    y = L.Conv2DTranspose(6, 3, strides=2, padding="same", activation="gelu")(y)
    y = L.LayerNormalization()(y)
    y = L.MaxPooling2D(2)(y)
    y = L.AveragePooling2D(2, padding="same")(y)
    g = L.GlobalMaxPooling2D()(y)
    y = L.Dropout(0.5)(L.Flatten()(y))
    y = L.Concatenate()([L.Dense(10, activation="tanh")(y), g])
    return keras.Model(x, L.Softmax()(L.Dense(4)(y)))


def test_keras_small_model(keras, tmp_path):
    path = _export(small_model(keras), tmp_path / "small")
    conv = _convert(path)
    ops = Counter(n.op for n in conv.graph.nodes)
    assert ops["Flatten"] == 1 and ops["Transpose"] == 0 and ops["ConvTranspose"] == 1
    check_against_tf(path, conv)


@pytest.mark.parametrize("name, size, expect", [
    ("MobileNetV2", 64, {"Conv": 52, "Scale": 52, "Clip": 35, "Add": 10, "Pad": 4,
                         "Reshape": 0, "Constant": 0}),
    ("ResNet50", 64, {"Conv": 53, "Scale": 53, "Relu": 49, "Add": 16, "Pool": 1, "Reshape": 0,
                      "Constant": 0}),
    # squeeze-excite ([N, C] -> [N, 1, 1, C] reshapes), Rescaling / Normalization constants
    # captured by the signature
    ("EfficientNetB0", 64, {"Conv": 81, "Scale": 99, "Sigmoid": 65, "Reshape": 16,
                            "Constant": 2}),
])
def test_keras_applications(keras, tmp_path, name, size, expect):
    model = getattr(keras.applications, name)(weights=None, classifier_activation=None,
                                              input_shape=(size, size, 3))
    path = _export(model, tmp_path / name)
    conv = _convert(path)
    g = conv.graph
    assert g.inputs[0].attrs["shape"] == [1, 3, size, size]
    ops = Counter(n.op for n in g.nodes)
    for op, n in expect.items():
        assert ops[op] == n, (op, ops)
    assert ops["Transpose"] == 0
    out = g.node(g.outputs[0])
    assert out.op == "FullyConnected" and out.attrs["_source_name"].endswith("BiasAdd")
    check_against_tf(path, conv)
