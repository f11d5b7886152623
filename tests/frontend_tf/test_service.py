"""The frontend-tf Converter on files: .keras and .h5, every unsupported layer listed at once,
Lambda refused (unless allow_unsafe=1), bad and truncated files answered with issues, Run;
and the real service over gRPC (Describe, Check, ToIR, Run with intermediate outputs)."""

from __future__ import annotations

import zipfile

import grpc
import numpy as np
import pytest

from nnrosetta import wire
from nnrosetta.ir import registry
from nnrosetta.ir.graph import Graph
from nnrosetta.proto import converter_pb2 as pb
from nnrosetta.proto import converter_pb2_grpc as pb_grpc
from nnrosetta.rpc.converter import Model, model_chunks, serve
from nnrosetta.rpc.errors import ConversionError, issues_from_rpc_error
from tests.frontend_tf._keras import keras, rand, randomize, rel_err


@pytest.fixture(scope="module")
def K():
    return keras()


@pytest.fixture(scope="module")
def conv():
    from nnrosetta_frontend_tf import TFConverter

    c = TFConverter()
    c.load()
    return c


def small(K):
    L = K.layers
    i = K.Input((8, 8, 3), name="image")
    x = L.Conv2D(4, 3, padding="same", name="conv")(i)
    x = L.BatchNormalization(name="bn")(x)
    x = L.ReLU(name="relu")(x)
    x = L.MaxPooling2D(name="pool")(x)
    x = L.Flatten(name="flat")(x)
    x = L.Dense(3, name="logits")(x)
    m = K.Model(i, x)
    randomize(m, seed=4)
    return m


@pytest.fixture(scope="module")
def files(K, tmp_path_factory):
    d = tmp_path_factory.mktemp("keras")
    m = small(K)
    out = {"keras": d / "small.keras", "h5": d / "small.h5"}
    m.save(out["keras"])
    m.save(out["h5"])
    return m, out


def _to_ir(conv, path, options=None):
    items = list(conv.to_ir(Model("keras", options=options or {}, files={"network": str(path)})))
    graph = next(i for i in items if isinstance(i, Graph))
    return graph, dict(i for i in items if isinstance(i, tuple))


def test_describe(conv):
    import tensorflow as tf

    d = conv.describe()
    assert d["framework"] == "tensorflow" and d["framework_version"] == tf.__version__
    assert d["reads"] == ["keras", "tensorflow"] and d["writes"] == ["ir"]
    assert {"tensorflow", "keras", "numpy", "protobuf", "h5py"} <= set(d["versions"])
    assert d["runtime"].startswith("TensorFlow ") and "Keras" in d["runtime"]
    for layer in ("Conv2D", "Dense", "BatchNormalization", "DepthwiseConv2D", "Concatenate"):
        assert layer in d["ops_supported"]
    assert conv.name == "frontend-tf"
    from nnrosetta_frontend_tf import TFConverter

    assert TFConverter(name="frontend-tf-legacy").name == "frontend-tf-legacy"


@pytest.mark.parametrize("kind", ["keras", "h5"])
def test_file_to_ir_and_run(conv, files, kind):
    m, paths = files
    graph, weights = _to_ir(conv, paths[kind])
    assert graph.metadata["keras_file"] == kind
    x = rand(2, 8, 8, 3)
    xi = np.transpose(x, (0, 3, 1, 2))
    got = registry.run_reference(graph, weights, {"image": xi})
    ref = np.asarray(m(x))
    assert rel_err(got[graph.outputs[0]], ref) <= 1e-4
    model = Model("keras", files={"network": str(paths[kind])})
    outs, info = conv.run(model, {"image": xi}, ["conv", "relu", "logits"])
    assert [n for n, _ in outs] == ["conv", "relu", "logits"]
    assert outs[1][1].shape == (2, 4, 8, 8)            # IR layout
    ref_relu = np.asarray(m.get_layer("relu")(m.get_layer("bn")(m.get_layer("conv")(x))))
    assert rel_err(outs[1][1], np.transpose(ref_relu, (0, 3, 1, 2))) <= 1e-5
    assert rel_err(outs[2][1], ref) <= 1e-5
    with pytest.raises(ConversionError) as e:
        conv.run(model, {"image": xi}, ["nope"])
    assert e.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(ConversionError) as e:
        conv.run(model, {"other": xi}, [])
    assert {i.code for i in e.value.issues} == {"MISSING_INPUT", "BAD_INPUT"}


def _custom_model(K):
    L = K.layers

    @K.saving.register_keras_serializable(package="nnr_test")
    class Twice(L.Layer):
        def call(self, x):
            return x * 2

    i = K.Input((6, 4))
    x = L.RNN([L.LSTMCell(5), L.LSTMCell(5)], return_sequences=True, name="rnn")(i)  # stacked
    x = Twice(name="twice")(x)
    x = L.Dense(3, name="ok_dense")(x)
    x = L.MultiHeadAttention(2, 4, name="mha")(x, x)
    return K.Model(i, L.Dense(2)(x))


def test_every_unsupported_layer_listed(conv, K, tmp_path):
    p = tmp_path / "custom.keras"
    _custom_model(K).save(p)
    issues, graph = conv.check(Model("keras", files={"network": str(p)}))
    assert graph is None
    assert {(i.code, i.location) for i in issues} == {
        ("UNSUPPORTED_LAYER", "rnn"), ("UNSUPPORTED_LAYER", "twice"),
        ("UNSUPPORTED_LAYER", "mha")}
    assert any("custom layer" in i.message for i in issues)
    with pytest.raises(ConversionError) as e:
        list(conv.to_ir(Model("keras", files={"network": str(p)})))
    assert e.value.code == grpc.StatusCode.UNIMPLEMENTED
    assert len(e.value.issues) == 3 and "3 unsupported layers" in e.value.message


def _lambda_model(K):
    L = K.layers
    i = K.Input((4,), name="x")
    y = L.Lambda(lambda t: t * 3.0, name="triple")(L.Dense(4, name="d")(i))
    return K.Model(i, y)


@pytest.mark.parametrize("kind", ["keras", "h5"])
def test_lambda_refused(conv, K, tmp_path, kind):
    m = _lambda_model(K)
    p = tmp_path / f"lam.{kind}"
    m.save(p)
    model = Model("keras", files={"network": str(p)})
    issues, graph = conv.check(model)
    assert graph is None and [(i.code, i.location) for i in issues] == [
        ("UNSAFE_LAYER", "triple")]
    assert "allow_unsafe=1" in issues[0].message
    with pytest.raises(ConversionError) as e:
        list(conv.to_ir(model))
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(ConversionError):        # nor is it run
        conv.run(model, {"x": np.ones((1, 4), np.float32)}, [])
    # with consent the file is loaded: it runs, and the Lambda is reported as unconvertible
    ok = Model("keras", options={"allow_unsafe": "1"}, files={"network": str(p)})
    issues, _ = conv.check(ok)
    assert [(i.code, i.location) for i in issues] == [("UNSUPPORTED_LAYER", "triple")]
    x = rand(1, 4)
    outs, _ = conv.run(ok, {"x": x}, ["triple"])
    assert rel_err(outs[0][1], np.asarray(m(x))) <= 1e-6


def test_bad_files(conv, files, tmp_path):
    _, paths = files

    def issues_of(path):
        with pytest.raises(ConversionError) as e:
            list(conv.to_ir(Model("keras", files={"network": str(path)})))
        issues, graph = conv.check(Model("keras", files={"network": str(path)}))
        assert graph is None and [i.code for i in issues] == [i.code for i in e.value.issues]
        return e.value.code, [i.code for i in e.value.issues]

    junk = tmp_path / "junk.keras"
    junk.write_bytes(b"this is not a model" * 20)
    assert issues_of(junk) == (grpc.StatusCode.INVALID_ARGUMENT, ["NOT_KERAS"])
    data = paths["keras"].read_bytes()
    cut = tmp_path / "cut.keras"
    cut.write_bytes(data[: len(data) // 2])
    assert issues_of(cut) == (grpc.StatusCode.DATA_LOSS, ["TRUNCATED"])
    h5 = paths["h5"].read_bytes()
    cut_h5 = tmp_path / "cut.h5"
    cut_h5.write_bytes(h5[: len(h5) // 2])
    code, codes = issues_of(cut_h5)
    assert codes[0] in ("TRUNCATED", "BAD_H5", "LOAD_FAILED")
    nozip = tmp_path / "other.keras"
    with zipfile.ZipFile(nozip, "w") as z:
        z.writestr("readme.txt", "hello")
    assert issues_of(nozip) == (grpc.StatusCode.INVALID_ARGUMENT, ["NOT_KERAS"])
    empty = tmp_path / "empty.h5"
    empty.write_bytes(b"")
    assert issues_of(empty)[1] == ["NOT_KERAS"]


def test_weights_only_h5(conv, K, files, tmp_path):
    m, _ = files
    p = tmp_path / "only.weights.h5"
    m.save_weights(p)
    issues, _ = conv.check(Model("keras", files={"network": str(p)}))
    assert [i.code for i in issues] == ["NOT_KERAS"]
    assert "save the whole model" in issues[0].message


def test_unknown_format(conv, files):
    _, paths = files
    with pytest.raises(ConversionError) as e:
        conv.check(Model("caffe", files={"network": str(paths["keras"])}))
    assert e.value.code == grpc.StatusCode.INVALID_ARGUMENT


# -- the real service over gRPC ------------------------------------------------------------

@pytest.fixture(scope="module")
def stub():
    from nnrosetta_frontend_tf import TFConverter

    svc = serve(TFConverter(), port=0)
    assert svc.ready.wait(120)
    ch = grpc.insecure_channel(svc.address)
    yield pb_grpc.ConverterStub(ch)
    ch.close()
    svc.stop(0)


def test_service_over_grpc(stub, files, tmp_path):
    m, paths = files
    p = paths["keras"]
    d = stub.Describe(pb.DescribeRequest())
    assert d.name == "frontend-tf" and list(d.reads) == ["keras", "tensorflow"]
    assert d.versions["keras"] and "Conv2D" in d.ops_supported
    resp = stub.Check(model_chunks("keras", {"network": str(p)}))
    assert resp.ok and resp.graph.node

    graph, tensors = None, wire.TensorAssembler()
    for c in stub.ToIR(model_chunks("keras", {"network": str(p)})):
        kind = c.WhichOneof("payload")
        if kind == "graph":
            graph = Graph.from_proto(c.graph)
        elif kind == "tensor":
            tensors.add(c.tensor)
    assert graph is not None and set(tensors.done) == set(graph.tensors)
    x = rand(1, 8, 8, 3, seed=3)
    xi = np.transpose(x, (0, 3, 1, 2))
    got = registry.run_reference(graph, tensors.done, {"image": xi})
    ref = np.asarray(m(x))
    assert rel_err(got[graph.outputs[0]], ref) <= 1e-4

    def run_req():
        yield pb.RunChunk(header=pb.RunHeader(model=pb.ModelHeader(
            format="keras", files={"network": p.name}), fetch=["pool", "logits"]))
        for c in wire.path_chunks(p.name, str(p)):
            yield pb.RunChunk(file=c)
        for c in wire.tensor_chunks("image", xi):
            yield pb.RunChunk(tensor=c)

    outs = wire.TensorAssembler()
    for c in stub.Run(run_req()):
        if c.WhichOneof("payload") == "tensor":
            outs.add(c.tensor)
    assert outs.done["pool"].shape == (1, 4, 4, 4)
    assert rel_err(outs.done["logits"], ref) <= 1e-5

    # a bad request answers with every issue, and the service still answers afterwards
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"PK\x03\x04 not really a zip" * 10)
    with pytest.raises(grpc.RpcError) as e:
        list(stub.ToIR(model_chunks("keras", {"network": str(bad)})))
    assert e.value.code() == grpc.StatusCode.DATA_LOSS
    reason, issues = issues_from_rpc_error(e.value)
    assert issues and issues[0].code == "TRUNCATED" and reason == "TRUNCATED"
    assert stub.Check(model_chunks("keras", {"network": str(p)})).ok


def test_nested_names_run(conv, K, tmp_path):
    """Layers inside nested models are named outer/inner, a shared layer's second call
    name@1; Run answers by those names, in IR layout, equal to the IR's values."""
    from tests.frontend_tf._cases import nested

    m, xs = nested(K)
    randomize(m, seed=8)
    p = tmp_path / "nested.keras"
    m.save(p)
    graph, weights = _to_ir(conv, p)
    names = ["block/c1", "block/r", "res/add", "shared", "shared@1"]
    by_src = {n.attrs["_source_name"]: n.name for n in graph.nodes
              if n.attrs.get("_source_name") in names}
    assert set(by_src) == set(names)
    xi = np.transpose(xs[0], (0, 3, 1, 2))
    inp = graph.inputs[0].name
    ref = registry.run_reference(graph, weights, {inp: xi}, list(by_src.values()))
    outs, _ = conv.run(Model("keras", files={"network": str(p)}), {inp: xi}, names)
    for name, arr in outs:
        assert rel_err(arr, ref[by_src[name]]) <= 1e-4, name


def test_tensorflow_format_goes_to_the_graph_importer(conv, files, tmp_path):
    """Format tensorflow (and a SavedModel sent as format keras, which Keras 3 cannot load)
    is converted by the graph importer (graph/)."""
    from nnrosetta_frontend_tf import graph as tfgraph

    if not hasattr(tfgraph, "convert_graph"):
        pytest.skip("the graph importer is not built yet")
    m, _ = files
    d = tmp_path / "exported"
    m.export(str(d), verbose=False)
    for fmt in ("tensorflow", "keras"):
        graph, weights = None, {}
        for item in conv.to_ir(Model(fmt, files={"network": str(d)})):
            if isinstance(item, Graph):
                graph = item
            elif isinstance(item, tuple):
                weights[item[0]] = item[1]
        assert graph is not None and graph.metadata.get("source_format") != "keras"
        x = rand(1, 8, 8, 3, seed=5)
        inp = graph.inputs[0]
        perm = inp.attrs.get("_source_perm")
        got = registry.run_reference(graph, weights,
                                     {inp.name: np.transpose(x, perm) if perm else x})
        assert rel_err(got[graph.outputs[0]], np.asarray(m(x))) <= 1e-4


@pytest.mark.parametrize("case", ["merges", "nested", "normalization", "se_block",
                                  "sequential"])
def test_models_through_keras_files(conv, K, tmp_path, case):
    """The file path (loaded without initializing Keras variables) gives Keras' numbers."""
    from tests.frontend_tf._cases import MODELS

    m, xs = MODELS[case](K)
    randomize(m, seed=6)
    p = tmp_path / f"{case}.keras"
    m.save(p)
    graph, weights = _to_ir(conv, p)
    feeds = {}
    for inp, x in zip(graph.inputs, xs, strict=True):
        perm = inp.attrs.get("_source_perm")
        feeds[inp.name] = np.transpose(x, perm) if perm else x
    got = registry.run_reference(graph, weights, feeds)
    refs = m(xs if len(xs) > 1 else xs[0])
    refs = refs if isinstance(refs, (list, tuple)) else [refs]
    for out, r in zip(graph.outputs, refs, strict=True):
        perm = graph.node(out).attrs.get("_source_perm")
        r = np.asarray(r)
        assert rel_err(got[out], np.transpose(r, perm) if perm else r) <= 1e-4


def test_conversion_leaves_keras_variables_uninitialized(conv, files):
    """Keras 3: ToIR reads the weights without initializing (randomly) every variable
    first; Run loads the model fully."""
    from nnrosetta_frontend_tf import compat

    if compat.is_keras2():
        pytest.skip("Keras 3 only")
    _, paths = files
    for kind in ("keras", "h5"):
        opened = conv._open(str(paths[kind]), {})
        v = opened.model.get_layer("conv").kernel
        assert v._value is None and v._nnr_value is not None
        ran = conv._open(str(paths[kind]), {}, for_run=True)
        assert ran.model.get_layer("conv").kernel._value is not None


# -- the model cache: Run after ToIR of the same bytes uses the model ToIR loaded --------------

def test_model_cache_lru():
    from nnrosetta_frontend_tf.service import ModelCache, _Opened

    c = ModelCache(2)
    a, b, d = _Opened(None, "a"), _Opened(None, "b"), _Opened(None, "d")
    c.put(None, a)                           # no key (an unreadable file): nothing kept
    assert len(c) == 0 and c.get(None) is None
    c.put(("1", False), a)
    c.put(("2", False), b)
    assert c.get(("1", False)) is a          # now the most recent
    c.put(("3", False), d)                   # evicts the least recent: "2"
    assert c.get(("2", False)) is None
    assert c.get(("1", False)) is a and c.get(("3", False)) is d and len(c) == 2
    assert c.get(("1", True)) is None        # another load option: another entry
    c.make_room()                            # room for one more load: the oldest goes
    assert len(c) == 1 and c.get(("3", False)) is d
    c.clear()
    assert len(c) == 0
    one = ModelCache()
    one.put(("1", False), a)
    one.make_room()                          # before loading another: nothing else held
    assert len(one) == 0


def test_file_digest(tmp_path):
    from nnrosetta_frontend_tf.service import file_digest

    (tmp_path / "a.bin").write_bytes(b"abc" * 1000)
    (tmp_path / "b.bin").write_bytes(b"abc" * 1000)
    (tmp_path / "c.bin").write_bytes(b"abc" * 999 + b"abd")
    assert file_digest(str(tmp_path / "a.bin")) == file_digest(str(tmp_path / "b.bin"))
    assert file_digest(str(tmp_path / "a.bin")) != file_digest(str(tmp_path / "c.bin"))
    assert file_digest(str(tmp_path / "missing")) is None
    for name in ("x", "y"):
        (tmp_path / name / "variables").mkdir(parents=True)
        (tmp_path / name / "saved_model.pb").write_bytes(b"graph")
        (tmp_path / name / "variables" / "v.data").write_bytes(b"values")
    assert file_digest(str(tmp_path / "x")) == file_digest(str(tmp_path / "y"))
    (tmp_path / "y" / "variables" / "v.data").write_bytes(b"other")
    assert file_digest(str(tmp_path / "x")) != file_digest(str(tmp_path / "y"))


def _cached(conv, path):
    return conv.models.get(conv._key(str(path), {}))


@pytest.mark.parametrize("kind", ["keras", "h5"])
def test_run_after_to_ir_uses_the_loaded_model(K, files, tmp_path, kind):
    """ToIR that keeps its file for a Run (keep_as) leaves the model it loaded for that Run,
    which makes it callable (the loaded values in real variables) instead of loading the file
    again; the same bytes under another path are the same model; other bytes load anew."""
    from nnrosetta_frontend_tf import TFConverter, compat

    conv = TFConverter(cache_size=2)
    m, paths = files
    list(conv.to_ir(Model("keras", files={"network": str(paths[kind])})))
    assert len(conv.models) == 0              # no Run announced: nothing kept
    list(conv.to_ir(Model("keras", files={"network": str(paths[kind])},
                          keep_as="k" * 16)))
    opened = _cached(conv, paths[kind])
    assert opened is not None and len(conv.models) == 1
    kernel = opened.model.get_layer("conv").kernel
    if not compat.is_keras2():                # ToIR's load: no variables yet
        assert kernel._value is None and kernel._nnr_value is not None
    copy = tmp_path / f"copy.{kind}"
    copy.write_bytes(paths[kind].read_bytes())
    x = rand(2, 8, 8, 3, seed=9)
    xi = np.transpose(x, (0, 3, 1, 2))
    outs, _ = conv.run(Model("keras", files={"network": str(copy)}), {"image": xi}, [])
    assert _cached(conv, copy) is opened and len(conv.models) == 1
    assert kernel._value is not None and not hasattr(kernel, "_nnr_value")
    assert rel_err(outs[0][1], np.asarray(m(x))) <= 1e-5
    # intermediate values from the same model; and the IR still reads the weights
    outs2, _ = conv.run(Model("keras", files={"network": str(paths[kind])}), {"image": xi},
                        ["relu", "logits"])
    assert rel_err(outs2[1][1], outs[0][1]) <= 1e-6
    assert np.array_equal(compat.to_numpy(kernel), np.asarray(m.get_layer("conv").kernel))
    # other bytes: loaded (fully) for the Run, and kept beside the first
    other = small(K)
    randomize(other, seed=11)
    p2 = tmp_path / f"other.{kind}"
    other.save(p2)
    outs3, _ = conv.run(Model("keras", files={"network": str(p2)}), {"image": xi}, [])
    assert rel_err(outs3[0][1], np.asarray(other(x))) <= 1e-5
    assert _cached(conv, p2) is not opened and _cached(conv, p2) is not None
    assert len(conv.models) == 2 and _cached(conv, paths[kind]) is opened
    # one entry (the default): a new ToIR lets the last model go before it loads
    conv = TFConverter()
    list(conv.to_ir(Model("keras", files={"network": str(p2)}, keep_as="k" * 16)))
    assert _cached(conv, p2) is not None
    list(conv.to_ir(Model("keras", files={"network": str(paths[kind])}, keep_as="k" * 16)))
    assert len(conv.models) == 1 and _cached(conv, p2) is None
    assert _cached(conv, paths[kind]) is not None


def test_run_after_to_ir_reuses_its_walk(files, monkeypatch):
    """The Run after a ToIR that kept its file neither walks nor converts the model again
    (ToIR did, with the same input_shape option); another input_shape does; the entry holds
    no weights."""
    from nnrosetta_frontend_tf import TFConverter, keras_import

    calls = []
    real = keras_import.convert_walk
    monkeypatch.setattr(keras_import, "convert_walk",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    conv = TFConverter()
    m, paths = files
    list(conv.to_ir(Model("keras", files={"network": str(paths["keras"])},
                          keep_as="k" * 16)))
    assert len(calls) == 1
    opened = _cached(conv, paths["keras"])
    assert opened.runs[""][2].weights == {} and opened.runs[""][2].graph is not None
    x = rand(2, 8, 8, 3, seed=3)
    xi = np.transpose(x, (0, 3, 1, 2))
    outs, _ = conv.run(Model("keras", files={"network": str(paths["keras"])}), {"image": xi}, [])
    assert len(calls) == 1
    assert rel_err(outs[0][1], np.asarray(m(x))) <= 1e-5
    conv.run(Model("keras", files={"network": str(paths["keras"])},
                   options={"input_shape": "image:2,3,8,8"}), {"image": xi}, [])
    assert len(calls) == 2


@pytest.mark.parametrize("case", ["merges", "nested", "normalization", "se_block",
                                  "sequential"])
def test_run_of_the_to_ir_model_gives_keras_numbers(K, tmp_path, case):
    """The model ToIR loaded without initializing variables, made callable for Run, computes
    what Keras' own fully loaded model computes."""
    from nnrosetta_frontend_tf import TFConverter, compat
    from tests.frontend_tf._cases import MODELS

    m, xs = MODELS[case](K)
    randomize(m, seed=7)
    p = tmp_path / f"{case}.keras"
    m.save(p)
    conv = TFConverter()
    items = list(conv.to_ir(Model("keras", files={"network": str(p)}, keep_as="k" * 16)))
    graph = next(i for i in items if isinstance(i, Graph))
    opened = _cached(conv, p)
    assert opened is not None
    feeds = {}
    for inp, x in zip(graph.inputs, xs, strict=True):
        perm = inp.attrs.get("_source_perm")
        feeds[inp.name] = np.transpose(x, perm) if perm else x
    outs, _ = conv.run(Model("keras", files={"network": str(p)}), feeds, [])
    assert _cached(conv, p) is opened
    assert all(getattr(v, "_value", None) is not None for v in opened.model.variables)
    full = compat.load_model(str(p))
    refs = full(xs if len(xs) > 1 else xs[0], training=False)
    refs = refs if isinstance(refs, (list, tuple)) else [refs]
    for (_, got), out, r in zip(outs, graph.outputs, refs, strict=True):
        perm = graph.node(out).attrs.get("_source_perm")
        r = np.asarray(r)
        assert rel_err(got, np.transpose(r, perm) if perm else r) <= 1e-6
