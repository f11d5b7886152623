"""Every Keras layer importer against Keras itself: build a small model around the layer,
convert it, run the IR with the reference runtime and compare with the model's own output
(in IR layout), within 1e-4 of the output's scale. A table of cases."""

from __future__ import annotations

import numpy as np
import pytest

from tests.frontend_tf._cases import CASES, MODELS, se_block
from tests.frontend_tf._keras import check, keras, rand, randomize


@pytest.fixture(scope="module")
def K():
    return keras()


@pytest.mark.parametrize("case", sorted(CASES))
def test_layer(K, case):
    model, xs = CASES[case](K)
    randomize(model, seed=len(case))
    check(model, xs)


@pytest.mark.parametrize("case", sorted(MODELS))
def test_model(K, case):
    model, xs = MODELS[case](K)
    randomize(model, seed=3)
    check(model, xs)


def test_layout_no_transposes(K):
    """Channels-first inside: a conv net with Flatten -> Dense has no Transpose, and every
    layer output carries its Keras name and layout."""
    model, xs = CASES["flatten_dense"](K)
    g = check(model, xs)
    assert "Transpose" not in [n.op for n in g.nodes]
    conv = next(n for n in g.nodes if n.op == "Conv")
    assert conv.attrs["_source_perm"] == [0, 3, 1, 2]
    flat = next(n for n in g.nodes if n.op == "Flatten")
    assert "_source_name" not in flat.attrs         # its features are permuted: not equal
    inp = g.inputs[0]
    assert inp.attrs["shape"] == [1, 3, 4, 5] and inp.attrs["_source_perm"] == [0, 3, 1, 2]


def test_se_block_needs_no_transpose(K):
    model, xs = se_block(K)
    g = check(model, xs)
    assert "Transpose" not in [n.op for n in g.nodes]


def test_input_shape_option(K):
    L = K.layers
    i = K.Input((None, None, 3))
    m = K.Model(i, L.GlobalAveragePooling2D()(L.Conv2D(4, 3, padding="same")(i)))
    randomize(m)
    from nnrosetta_frontend_tf.keras_import import convert_keras

    conv = convert_keras(m, {})
    assert [i.code for i in conv.issues] == ["MISSING_INPUT_SHAPE"]
    assert "input_shape" in conv.issues[0].message
    g = check(m, [rand(2, 10, 12, 3)], {"input_shape": f"{m.layers[0].name}:2,3,10,12"})
    assert g.inputs[0].attrs["shape"] == [2, 3, 10, 12]
    bad = convert_keras(m, {"input_shape": "nope:1,3,4,4"})
    assert {i.code for i in bad.issues} >= {"BAD_OPTION", "MISSING_INPUT_SHAPE"}


def test_transpose_geometry_matches_keras_lengths(K):
    """Output lengths of ConvTranspose equal Keras' for every padding / stride / kernel."""
    from nnrosetta_frontend_tf.layers.conv import transpose_geometry

    L = K.layers
    for padding in ("valid", "same"):
        for k in (1, 2, 3, 4, 5):
            for s in (1, 2, 3):
                for op in (None, 0, 1):
                    if op is not None and op >= s:
                        continue
                    lay = L.Conv1DTranspose(1, k, strides=s, padding=padding,
                                            output_padding=op)
                    n = int(lay.compute_output_shape((None, 5, 1))[1])
                    b, e, o = transpose_geometry(padding, 5, k, s, 1, op)
                    assert (5 - 1) * s - b - e + k + o == n, (padding, k, s, op)


def test_randomized_weights_matter(K):
    """Sanity of the oracle: a wrong layout would fail (the comparison is not trivial)."""
    model, xs = CASES["conv2d_same_s2_odd"](K)
    randomize(model)
    g = check(model, xs)
    assert np.abs(np.asarray(model(xs[0]))).max() > 0.1
    assert g.nodes[0].op == "Input"


def keras3_ops(K):
    """Keras 3 operations in a functional graph: operators with numbers and tensors,
    keras.ops activations, concatenate, reshape, transpose, reductions."""
    from keras import ops

    L = K.layers
    i = K.Input((4, 5, 3))
    x = L.Conv2D(4, 1)(i)
    a = x + 1.0
    b = 2.0 * a - x
    c = ops.maximum(b / 3.0, -0.5)
    d = 1.0 - ops.relu(c) * ops.sigmoid(x)
    e = ops.concatenate([d, ops.tanh(x), ops.silu(x)], axis=-1)
    s = ops.mean(e, axis=(1, 2), keepdims=True)
    f = e * s
    g = ops.softmax(ops.reshape(f, (-1, 20, 12)), axis=-1)
    h = ops.transpose(x, (0, 3, 1, 2))
    k = ops.sum(h, axis=1)
    m = ops.max(e, axis=-1)
    bias = np.linspace(-1, 1, 4).astype(np.float32)
    n = x + bias
    return K.Model(i, [g, k, m, ops.gelu(n), ops.leaky_relu(n)]), [rand(2, 4, 5, 3)]


def test_keras3_ops(K):
    from nnrosetta_frontend_tf import compat

    if compat.is_keras2():
        pytest.skip("Keras 3 operations")
    model, xs = keras3_ops(K)
    randomize(model)
    g = check(model, xs)
    ops = [n.op for n in g.nodes]
    assert ops.count("Transpose") == 1          # only for the reshape of the image
    assert "Power" in ops and "Clip" in ops     # numbers folded into attributes


def test_unsupported_settings_all_reported(K):
    """Settings an importer cannot express are reported together, each at its layer."""
    from nnrosetta_frontend_tf.keras_import import convert_keras

    L = K.layers
    i = K.Input((4, 4, 3))
    a = L.UpSampling2D(2, interpolation="bicubic", name="up")(i)
    b = L.Softmax(axis=(1, 2), name="sm2")(i)
    c = L.Conv2D(3, 1, name="fine")(i)
    conv = convert_keras(K.Model(i, [a, b, c]), {})
    assert sorted((x.code, x.location) for x in conv.issues) == [
        ("UNSUPPORTED_ATTRIBUTE", "sm2"), ("UNSUPPORTED_ATTRIBUTE", "up")]
    assert conv.status.name == "UNIMPLEMENTED"
