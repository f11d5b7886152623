"""The keras.applications models the frontend must convert (random weights, small inputs),
against Keras' own output within 1e-4 of the output's scale. One TensorFlow import for the
module; ResNet50 also goes through a saved .keras file and the service."""

from __future__ import annotations

import numpy as np
import pytest

from nnrosetta.ir import registry
from tests.frontend_tf._keras import keras, rand, randomize, rel_err, to_ir

APPS = {
    "ResNet50": (32, 32, 3),
    "InceptionV3": (75, 75, 3),
    "MobileNetV2": (96, 96, 3),
    "VGG16": (32, 32, 3),
    "DenseNet121": (32, 32, 3),
}


@pytest.fixture(scope="module")
def K():
    return keras()


def _app(K, name):
    m = getattr(K.applications, name)(weights=None, input_shape=APPS[name],
                                      classifier_activation=None)
    randomize(m, seed=7)
    return m


@pytest.mark.parametrize("name", sorted(APPS))
def test_application(K, name):
    m = _app(K, name)
    graph, weights = to_ir(m)
    x = rand(1, *APPS[name], seed=11)
    inp = graph.inputs[0]
    assert inp.attrs["shape"] == [1, 3, *APPS[name][:2]]
    got = registry.run_reference(graph, weights, {inp.name: np.transpose(x, (0, 3, 1, 2))})
    ref = np.asarray(m(x, training=False))
    assert rel_err(got[graph.outputs[0]], ref) <= 1e-4
    ops = [n.op for n in graph.nodes]
    assert "Transpose" not in ops and "Gather" not in ops   # layout converted at the edge
    assert len(weights) == len(graph.tensors)


def test_resnet50_file_and_run(K, tmp_path):
    """Through a .keras file and the Converter: ToIR streams the weights lazily; Run returns
    the model output and intermediate layer outputs in IR layout."""
    from nnrosetta.ir.graph import Graph
    from nnrosetta.rpc.converter import Model
    from nnrosetta_frontend_tf import TFConverter

    m = _app(K, "ResNet50")
    p = tmp_path / "r50.keras"
    m.save(p)
    conv = TFConverter()
    items = list(conv.to_ir(Model("keras", files={"network": str(p)})))
    graph = next(i for i in items if isinstance(i, Graph))
    weights = dict(i for i in items if isinstance(i, tuple))
    assert set(weights) == set(graph.tensors)
    x = rand(1, 32, 32, 3, seed=2)
    xi = np.transpose(x, (0, 3, 1, 2))
    inp = graph.inputs[0].name
    names = ["conv1_conv", "conv2_block1_out", "avg_pool"]
    want = {n.attrs["_source_name"]: n.name for n in graph.nodes
            if n.attrs.get("_source_name") in names}
    ref_ir = registry.run_reference(graph, weights, {inp: xi},
                                    list(want.values()) + graph.outputs)
    outs, info = conv.run(Model("keras", files={"network": str(p)}), {inp: xi}, names)
    assert info["runtime"].startswith("TensorFlow ")
    for name, arr in outs:
        assert arr.shape == ref_ir[want[name]].shape
        assert rel_err(ref_ir[want[name]], arr) <= 1e-4
    outs, _ = conv.run(Model("keras", files={"network": str(p)}), {inp: xi}, [])
    assert [n for n, _ in outs] == graph.outputs
    assert rel_err(ref_ir[graph.outputs[0]], outs[0][1]) <= 1e-4
