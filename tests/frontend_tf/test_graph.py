"""The TF graph importer (``nnrosetta_frontend_tf.graph``): tf.Module SavedModels and frozen
GraphDefs -> IR, checked against TensorFlow running the same files (``run_graph``), output
by output and at every IR node that names a TF op (``_source_name``)."""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from nnrosetta.ir import registry

TOL = 1e-4
RNG = np.random.default_rng(0)


@pytest.fixture(scope="module")
def tf():
    import tensorflow as tf

    return tf


def _w(*shape, positive=False):
    if positive:
        return RNG.uniform(0.5, 1.5, shape).astype(np.float32)
    return RNG.normal(0, 0.3, shape).astype(np.float32)


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a.astype(np.float64) - b).max() / max(np.abs(a).max(), 1e-6))


def _convert(path, options=None):
    from nnrosetta_frontend_tf.graph import convert_graph

    conv = convert_graph(str(path), options or {})
    assert conv.status == grpc.StatusCode.OK, "\n".join(str(i) for i in conv.issues)
    assert not conv.issues and conv.graph is not None
    return conv


def check_against_tf(path, conv, options=None, seed=1, every_node=True) -> None:
    """IR (NumPy reference) vs TensorFlow on the same inputs: the outputs, and every node
    whose ``_source_name`` names a TF op (fetched from TF by that name)."""
    from nnrosetta_frontend_tf.graph import run_graph

    rng = np.random.default_rng(seed)
    feeds = {n.name: rng.normal(size=n.attrs["shape"]).astype(np.float32)
             if n.attrs.get("dtype", "float32") == "float32" else
             rng.integers(0, 5, n.attrs["shape"]).astype(n.attrs["dtype"])
             for n in conv.graph.inputs}
    ref = run_graph(str(path), options or {}, feeds, [])
    got = registry.run_reference(conv.graph, conv.weights, feeds)
    assert [n for n, _ in ref] == list(got)
    for (name, a), b in zip(ref, got.values(), strict=True):
        assert _rel(a, b) <= TOL, name
    if not every_node:
        return
    tapped = [(n.name, n.attrs["_source_name"]) for n in conv.graph.nodes
              if "_source_name" in n.attrs and n.op != "Input"]
    ref = run_graph(str(path), options or {}, feeds, [s for _, s in tapped])
    got = registry.run_reference(conv.graph, conv.weights, feeds, [n for n, _ in tapped])
    for (src, a), (name, b) in zip(ref, got.items(), strict=True):
        assert _rel(a, b) <= TOL, (name, src)


# -- models --------------------------------------------------------------------------------

def cnn_module(tf, spatial=(16, 16)):
    class CNN(tf.Module):
        def __init__(self):
            self.w1, self.b1 = tf.Variable(_w(3, 3, 3, 8)), tf.Variable(_w(8))
            self.dw = tf.Variable(_w(3, 3, 8, 2))
            self.w2 = tf.Variable(_w(2, 2, 16, 4))
            self.bn = [tf.Variable(_w(4, positive=True)), tf.Variable(_w(4)),
                       tf.Variable(_w(4)), tf.Variable(_w(4, positive=True))]
            self.fc, self.fb = tf.Variable(_w(4 * 4 * 4, 5)), tf.Variable(_w(5))

        @tf.function(input_signature=[tf.TensorSpec([None, *spatial, 3], tf.float32)])
        def __call__(self, x):
            y = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, self.w1, 1, "SAME"), self.b1))
            y = tf.nn.relu6(tf.nn.depthwise_conv2d(y, self.dw, [1, 2, 2, 1], "SAME"))
            y = tf.nn.conv2d(y, self.w2, 1, [[0, 0], [1, 0], [0, 1], [0, 0]])
            y, *_ = tf.compat.v1.nn.fused_batch_norm(y, *self.bn, is_training=False)
            y = tf.nn.elu(y)
            y = tf.nn.avg_pool2d(y, 3, 2, "SAME")
            y = tf.nn.max_pool2d(y, 2, 1, "SAME")
            y = tf.reshape(y, [-1, 4 * 4 * 4])
            return tf.nn.softmax(tf.matmul(y, self.fc) + self.fb)

    return CNN()


def mlp_module(tf):
    class MLP(tf.Module):
        def __init__(self):
            self.w = [tf.Variable(_w(10, 16)), tf.Variable(_w(16, 12)), tf.Variable(_w(12, 3))]
            self.b = [tf.Variable(_w(16)), tf.Variable(_w(12)), tf.Variable(_w(3))]
            self.scale = tf.Variable(_w(16, positive=True))
            self.shift = tf.Variable(_w(16))

        @tf.function(input_signature=[tf.TensorSpec([None, 10], tf.float32)])
        def __call__(self, x):
            y = tf.nn.selu(tf.matmul(x, self.w[0]) + self.b[0])
            y = y * self.scale + self.shift
            y = tf.nn.tanh(tf.nn.bias_add(tf.matmul(y, self.w[1]), self.b[1]))
            y = tf.nn.softplus(y) - tf.sigmoid(y)
            return {"logits": tf.matmul(y, self.w[2]) + self.b[2], "hidden": tf.square(y)}

    return MLP()


def ops_module(tf):
    """Many layout-sensitive ops: SE block, mirror pad, split/concat with a constant, strided
    slice with a negative step, an explicit transpose, Conv1D (ExpandDims/Squeeze), a
    transposed conv, stack, a Reshape of a channels-first tensor, pooling of an input."""

    class Ops(tf.Module):
        def __init__(self):
            self.w, self.c1 = tf.Variable(_w(3, 3, 4, 6)), tf.Variable(_w(3, 4, 5))
            self.wt, self.d3 = tf.Variable(_w(3, 3, 6, 5)), tf.Variable(_w(5, 7))
            self.w5 = tf.Variable(_w(2, 2, 6, 6))

        @tf.function(input_signature=[tf.TensorSpec([1, 8, 8, 4], tf.float32),
                                      tf.TensorSpec([1, 10, 4], tf.float32)])
        def __call__(self, x, s):
            y = tf.nn.conv2d(x, self.w, 1, "VALID", dilations=2)
            y = y * tf.sigmoid(tf.reduce_mean(y, [1, 2], keepdims=True))
            y = tf.pad(y, [[0, 0], [1, 2], [0, 1], [0, 0]], mode="REFLECT")
            y = tf.nn.leaky_relu(y, 0.1) - 0.5
            a, b = tf.split(y, [2, 4], axis=3)
            y = tf.concat([b, a * 2.0, tf.ones([1, 7, 5, 1])], axis=-1)
            y = y[:, 1:6:2, ::-1, :5]
            y = tf.reduce_max(tf.transpose(y, [0, 3, 1, 2]), axis=2)
            y = tf.matmul(y, self.d3)
            z = tf.nn.relu(tf.nn.conv1d(s, self.c1, 2, "SAME"))
            zz = tf.nn.conv2d_transpose(tf.reshape(z, [1, 5, 1, 5]), self.wt, [1, 10, 2, 6],
                                        [1, 2, 2, 1], "SAME")
            zz = tf.nn.conv2d(zz, self.w5, 1, "SAME")
            t = tf.reduce_sum(zz, axis=[1, 2])
            return {"a": tf.nn.log_softmax(y + tf.reduce_mean(z, -1, keepdims=True)),
                    "b": tf.stack([t, -t], axis=1) * tf.expand_dims(t, 1),
                    "c": tf.math.rsqrt(tf.abs(tf.reshape(zz, [1, -1])[:, 3]) + 1.0),
                    "d": tf.nn.max_pool2d(x, 3, 2, "SAME")}

    return Ops()


def resize_module(tf):
    """tf.image.resize (TF2: half-pixel centers), TF1 align_corners / asymmetric resizes, and
    an embedding lookup of an int input."""

    class Resize(tf.Module):
        def __init__(self):
            self.emb = tf.Variable(_w(20, 6))

        @tf.function(input_signature=[tf.TensorSpec([1, 5, 7, 3], tf.float32),
                                      tf.TensorSpec([1, 4], tf.int32)])
        def __call__(self, x, ids):
            v1 = tf.compat.v1.image
            return {"a": tf.image.resize(x, [9, 13], "bilinear"),
                    "b": tf.image.resize(x, [10, 14], "nearest"),
                    "c": v1.resize_bilinear(x, [8, 9], align_corners=True),
                    "d": v1.resize_nearest_neighbor(x, [11, 6]),
                    "e": v1.resize_nearest_neighbor(x, [8, 9], align_corners=True),
                    "f": tf.gather(self.emb, ids)}

    return Resize()


@pytest.fixture(scope="module")
def saved(tf, tmp_path_factory):
    """name -> SavedModel folder of each tf.Module above."""
    root = tmp_path_factory.mktemp("tf_graph")
    out = {}
    for name, make in (("cnn", cnn_module), ("mlp", mlp_module), ("ops", ops_module),
                       ("resize", resize_module)):
        m = make(tf)
        tf.saved_model.save(m, str(root / name), signatures=m.__call__)
        out[name] = root / name
    return out


@pytest.fixture(scope="module")
def frozen_pb(tf, saved, tmp_path_factory):
    """The CNN as a frozen GraphDef file (input 'x', output 'Identity')."""
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    loaded = tf.saved_model.load(str(saved["cnn"]))
    fn = loaded.signatures["serving_default"]
    gd = convert_variables_to_constants_v2(fn).graph.as_graph_def()
    path = tmp_path_factory.mktemp("tf_pb") / "cnn.pb"
    path.write_bytes(gd.SerializeToString())
    return path


# -- SavedModels of tf.Module ----------------------------------------------------------------

def test_cnn_saved_model(saved):
    conv = _convert(saved["cnn"])
    g = conv.graph
    ops = [n.op for n in g.nodes]
    assert "Transpose" not in ops                     # layout converted at the edge only
    x = g.inputs[0]
    assert x.attrs["shape"] == [1, 3, 16, 16] and x.attrs["_source_perm"] == [0, 3, 1, 2]
    conv1 = g.nodes[1]
    assert conv1.op == "Conv" and "Conv2D.bias" in conv.weights          # BiasAdd folded
    assert conv1.attrs["_source_name"].endswith("BiasAdd")
    assert ops.count("Flatten") == 1 and "BatchNorm" in ops
    check_against_tf(saved["cnn"], conv)


def test_mlp_saved_model(saved):
    conv = _convert(saved["mlp"])
    ops = [n.op for n in conv.graph.nodes]
    assert ops.count("FullyConnected") == 3 and "Scale" in ops
    assert not any(n.op == "Add" for n in conv.graph.nodes)             # biases folded
    check_against_tf(saved["mlp"], conv)


def test_layout_sensitive_ops(saved):
    conv = _convert(saved["ops"])
    assert sorted(n.name for n in conv.graph.inputs) == ["s", "x"]
    check_against_tf(saved["ops"], conv)


def test_resize_and_gather(saved):
    conv = _convert(saved["resize"])
    assert [n.op for n in conv.graph.nodes].count("Resize") == 5
    check_against_tf(saved["resize"], conv)


def test_run_in_a_fresh_process(saved):
    """Run knows names and layouts without the conversion having run in this process."""
    from nnrosetta_frontend_tf import graph

    conv = _convert(saved["cnn"])
    graph._CACHE.clear()
    x = np.random.default_rng(3).normal(size=(1, 3, 16, 16)).astype(np.float32)
    src = conv.graph.nodes[2].attrs["_source_name"]
    (_, a), = graph.run_graph(str(saved["cnn"]), {}, {"x": x}, [src])
    b = registry.run_reference(conv.graph, conv.weights, {"x": x}, [conv.graph.nodes[2].name])
    assert a.shape == (1, 8, 16, 16)                  # IR layout
    assert _rel(a, next(iter(b.values()))) <= TOL


# -- frozen GraphDefs --------------------------------------------------------------------------

def test_frozen_graph_names_given(frozen_pb):
    opts = {"inputs": "x:0", "outputs": "Identity:0"}
    conv = _convert(frozen_pb, opts)
    assert [n.name for n in conv.graph.inputs] == ["x"]
    check_against_tf(frozen_pb, conv, opts)


def test_frozen_graph_names_inferred(frozen_pb):
    conv = _convert(frozen_pb)
    assert any("outputs inferred" in n and "Identity:0" in n for n in conv.notes)
    check_against_tf(frozen_pb, conv, every_node=False)


def test_frozen_graph_input_shape_option(frozen_pb):
    conv = _convert(frozen_pb, {"input_shape": "x:3,16,16"})     # batch added
    assert conv.graph.inputs[0].attrs["shape"] == [1, 3, 16, 16]
    bad = _graph_convert(frozen_pb, {"input_shape": "x:1,3,8,8"})
    assert bad.status == grpc.StatusCode.INVALID_ARGUMENT
    assert bad.issues[0].code == "BAD_OPTION" and "declares" in bad.issues[0].message


def _graph_convert(path, options):
    from nnrosetta_frontend_tf.graph import convert_graph

    return convert_graph(str(path), options)


def test_not_a_graph(tmp_path):
    p = tmp_path / "junk.pb"
    p.write_bytes(b"\x01\x02garbage")
    conv = _graph_convert(p, {})
    assert conv.graph is None and conv.status == grpc.StatusCode.INVALID_ARGUMENT
    assert conv.issues[0].code == "NOT_A_GRAPHDEF"


def test_unknown_signature(saved):
    conv = _graph_convert(saved["mlp"], {"signature": "nope"})
    assert conv.issues[0].code == "NO_SIGNATURE" and "serving_default" in conv.issues[0].message


# -- what cannot be converted: every problem at once -------------------------------------------

def test_unsupported_ops_listed_at_once(tf, tmp_path):
    class Odd(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 4, 4, 3], tf.float32)])
        def __call__(self, x):
            y = tf.math.cumsum(tf.nn.relu(x), axis=1)
            y = tf.nn.local_response_normalization(y) + tf.math.cumsum(x, axis=2)
            return tf.math.cumprod(y, axis=3)

    m = Odd()
    tf.saved_model.save(m, str(tmp_path), signatures=m.__call__)
    conv = _graph_convert(tmp_path, {})
    assert conv.graph is None and conv.status == grpc.StatusCode.UNIMPLEMENTED
    assert {i.code for i in conv.issues} == {"UNSUPPORTED_OP"}
    found = sorted((i.message.split()[2], i.location.rsplit("/", 1)[-1]) for i in conv.issues)
    assert found == [("Cumprod", "Cumprod"), ("Cumsum", "Cumsum"), ("Cumsum", "Cumsum_1"),
                     ("LRN", "LRN")]


def test_missing_input_shape(tf, tmp_path):
    class Free(tf.Module):
        def __init__(self):
            self.w = tf.Variable(_w(3, 3, 3, 4))

        @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
        def __call__(self, x):
            return tf.reduce_mean(tf.nn.conv2d(x, self.w, 2, "SAME"), axis=[1, 2])

    m = Free()
    tf.saved_model.save(m, str(tmp_path), signatures=m.__call__)
    conv = _graph_convert(tmp_path, {})
    assert conv.graph is None and conv.status == grpc.StatusCode.INVALID_ARGUMENT
    (issue,) = conv.issues
    assert issue.code == "MISSING_INPUT_SHAPE" and issue.location == "x"
    assert 'input_shape="x:1,3,224,224"' in issue.message
    opts = {"input_shape": "x:1,3,9,11"}
    conv = _convert(tmp_path, opts)
    assert conv.graph.inputs[0].attrs["shape"] == [1, 3, 9, 11]
    check_against_tf(tmp_path, conv, opts)
    bad = _graph_convert(tmp_path, {"input_shape": "y:1,3,9,11"})
    assert [i.code for i in bad.issues] == ["MISSING_INPUT_SHAPE", "BAD_OPTION"]


def test_supported_ops_table():
    from nnrosetta_frontend_tf.graph import supported_ops

    ops = supported_ops()
    for op in ("Placeholder", "Const", "Identity", "Conv2D", "DepthwiseConv2dNative", "BiasAdd",
               "MatMul", "BatchMatMulV2", "AddV2", "Sub", "Mul", "RealDiv", "Maximum",
               "Minimum", "Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "Softplus",
               "LeakyRelu", "Softmax", "FusedBatchNormV3", "MaxPool", "AvgPool", "Mean", "Sum",
               "Max", "Pad", "PadV2", "MirrorPad", "ConcatV2", "Reshape", "Squeeze",
               "ExpandDims", "Transpose", "StridedSlice", "Shape", "Rsqrt", "Sqrt", "Square",
               "Exp", "Log", "Cast", "NoOp", "StopGradient"):
        assert op in ops, op
    assert ops == sorted(ops)


# -- through the Converter (A's service), a SavedModel sent file by file ----------------------

def test_service_to_ir_and_run(saved, tmp_path):
    from nnrosetta.ir.graph import Graph
    from nnrosetta.rpc.converter import Model
    from nnrosetta_frontend_tf import TFConverter

    c = TFConverter()
    c.load()
    root = saved["cnn"]
    files = {f"network/{p.relative_to(root).as_posix()}": str(p)
             for p in root.rglob("*") if p.is_file()}
    model = Model("tensorflow", files=files, workdir=str(tmp_path))
    items = list(c.to_ir(model))
    graph = next(i for i in items if isinstance(i, Graph))
    weights = dict(i for i in items if isinstance(i, tuple))
    assert "tf:Conv2D" in c.describe()["ops_supported"]
    x = np.random.default_rng(5).normal(size=(1, 3, 16, 16)).astype(np.float32)
    out = c.run(model, {"x": x}, [])
    outs = out[0] if isinstance(out, tuple) else out
    (name, a), = outs
    assert name == graph.outputs[0]
    b = registry.run_reference(graph, weights, {"x": x})[name]
    assert _rel(a, b) <= TOL


def test_graph_reading_files_is_neither_converted_nor_run(tf, tmp_path):
    from nnrosetta.rpc.errors import ConversionError
    from nnrosetta_frontend_tf.graph import run_graph

    @tf.function(input_signature=[tf.TensorSpec([1, 3], tf.float32)])
    def f(x):
        n = tf.strings.length(tf.io.read_file(str(tmp_path / "secret.txt")))
        return x + tf.cast(n, tf.float32)

    (tmp_path / "secret.txt").write_text("hello")
    pb = tmp_path / "reads.pb"
    pb.write_bytes(f.get_concrete_function().graph.as_graph_def().SerializeToString())
    conv = _graph_convert(pb, {})
    assert conv.status == grpc.StatusCode.UNIMPLEMENTED
    assert {i.message.split()[2] for i in conv.issues} == {"ReadFile", "StringLength"}
    with pytest.raises(ConversionError) as e:
        run_graph(str(pb), {}, {"x": np.zeros((1, 3), np.float32)}, [])
    assert [i.code for i in e.value.issues] == ["UNSAFE_OP"]
