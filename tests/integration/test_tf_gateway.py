"""TensorFlow / Keras through the whole system: keras.applications models with random weights
in a real S3 server (SeaweedFS), converted by the gateway through frontend-tf (Keras 3),
frontend-tf-legacy (Keras 2) and backend-tf / backend-pytorch / backend-onnx, each a separate
process in its own environment, real gRPC. Every result is verified by the gateway against
TensorFlow's own output and checked again here, outside the gateway."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.integration.helpers import download, keys, scaled_error, torch_forward, upload
from tests.keras_zoo import models as kz

TOLERANCE = 1e-4
ZOO = ["resnet50", "inceptionv3", "mobilenetv2", "vgg16", "densenet121"]
CACHE = kz.cache_root()   # $NNROSETTA_KERAS_ZOO_CACHE or /tmp/nnrosetta-keras-zoo
KERAS_OUT = {"model.py", "model.weights.h5", "model.keras", "report.json"}


def _nchw(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


def _tf_reference(path: Path, x_nhwc: np.ndarray) -> np.ndarray:
    import keras

    m = keras.models.load_model(str(path), compile=False)
    return np.asarray(m(x_nhwc, training=False))


# the forms each backend's output is verified in (default artifacts)
FORMS = {"backend-pytorch": ["eager", "torchscript"], "backend-tf": ["keras", "savedmodel"]}


def _check_report(res, source_service: str, target_service: str) -> dict:
    v = res.report["verification"]
    assert res.verified, json.dumps(v, indent=1)[:3000]
    assert v["status"] == "passed" and v["tolerance"] == TOLERANCE
    assert v["source_runtime"]["service"] == source_service, v["source_runtime"]
    assert v["target_runtime"]["service"] == target_service, v["target_runtime"]
    for o in v["outputs"]:
        assert o["pass"] and o["error_relative_to_scale"] <= TOLERANCE, o
    assert [h["service"] for h in res.report["hops"]] == [source_service, target_service]
    # every form of the delivered model is verified the same way
    uses = [f["run_options"].get("use") for f in v["forms"]]
    assert uses == FORMS.get(target_service, [None]), v["forms"]
    for f in v["forms"][1:]:
        assert f["status"] == "passed", f
        for o in f["outputs"]:
            assert o["pass"] and o["error_relative_to_scale"] <= TOLERANCE, o
    return v


@pytest.mark.integration
def test_plans_and_versions(gateway, tmp_path):
    conv = {c.name: c for c in gateway.converters()}
    for name in ("frontend-tf", "frontend-tf-legacy", "backend-tf"):
        assert name in conv, sorted(conv)
        assert conv[name].framework == "tensorflow"
    new, old = conv["frontend-tf"].versions, conv["frontend-tf-legacy"].versions
    assert new["keras"].startswith("3.") and old["keras"].startswith("2.")
    assert conv["frontend-tf-legacy"].framework_version == "2.15.1"
    assert sorted(conv["frontend-tf"].reads) == ["keras", "tensorflow"]
    assert sorted(conv["backend-tf"].writes) == ["keras", "tensorflow"]
    # newest framework by default; the user may ask for Keras 2
    plan = gateway.plan("keras", {}, "pytorch")
    assert [h.service for h in plan.hop] == ["frontend-tf", "backend-pytorch"]
    plan = gateway.plan("keras", {}, "pytorch", constraints={"keras": "<3"})
    assert [h.service for h in plan.hop] == ["frontend-tf-legacy", "backend-pytorch"]
    # a Keras-2 file picks the Keras-2 service by itself (read from its metadata)
    h5 = kz.ensure("mobilenetv2", "legacy_h5", CACHE, input_shape=(96, 96, 3))
    plan = gateway.plan("keras", {"network": f"file://{h5}"}, "pytorch")
    assert plan.hop[0].service == "frontend-tf-legacy"
    k3 = kz.ensure("mobilenetv2", "keras", CACHE, input_shape=(96, 96, 3))
    plan = gateway.plan("keras", {"network": f"file://{k3}"}, "keras")
    assert [(h.service, h.action) for h in plan.hop] == [("frontend-tf", "ToIR"),
                                                         ("backend-tf", "FromIR")]
    plan = gateway.plan("keras", {"network": f"file://{k3}"}, "onnx")
    assert [h.service for h in plan.hop] == ["frontend-tf", "backend-onnx"]
    assert plan.verify_with == "frontend-tf Run vs backend-onnx Run"
    plan = gateway.plan("caffe", {}, "tensorflow")
    assert [h.service for h in plan.hop] == ["frontend-caffe", "backend-tf"]


@pytest.mark.integration
@pytest.mark.parametrize("name", ZOO)
def test_keras_zoo_to_pytorch(name, s3, bucket, gateway, tmp_path):
    path = kz.ensure(name, "keras", CACHE)
    src = upload(s3, bucket, f"src-keras/{name}", {"network": path})
    res = gateway.convert("keras", src, "pytorch", f"s3://{bucket}/out-keras-pt/{name}")
    v = _check_report(res, "frontend-tf", "backend-pytorch")
    print(name, "verification:", json.dumps(v["outputs"]))

    # independent check here: TensorFlow vs the generated PyTorch code, as a user runs them
    prefix = f"out-keras-pt/{name}"
    got = download(s3, bucket, prefix, ["model.py", "weights.pth"], tmp_path)
    x = kz.sample_input(name, seed=7)
    ref = _tf_reference(path, x)
    outs, _, _ = torch_forward(got["model.py"], got["weights.pth"], [_nchw(x)])
    assert scaled_error(ref, outs[0].reshape(ref.shape)) <= TOLERANCE


def _import_generated(model_py: Path):
    spec = importlib.util.spec_from_file_location(f"nnr_generated_{abs(hash(model_py))}",
                                                  model_py)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.integration
@pytest.mark.parametrize("name", ZOO)
def test_keras_zoo_round_trip(name, s3, bucket, gateway, tmp_path):
    """Keras -> IR -> Keras: readable code, weights, .keras and SavedModel, all verified."""
    import keras

    path = kz.ensure(name, "keras", CACHE)
    src = upload(s3, bucket, f"src-keras-rt/{name}", {"network": path})
    res = gateway.convert("keras", src, "keras", f"s3://{bucket}/out-keras-rt/{name}")
    _check_report(res, "frontend-tf", "backend-tf")
    prefix = f"out-keras-rt/{name}"
    names = {k[len(prefix) + 1:] for k in keys(s3, bucket, prefix)}
    assert KERAS_OUT <= names, names
    assert "saved_model/saved_model.pb" in names, names
    got = download(s3, bucket, prefix, ["model.py", "model.keras", "model.weights.h5"],
                   tmp_path)
    x = kz.sample_input(name, seed=3)
    ref = _tf_reference(path, x)
    # the .keras file, loaded in safe mode as a user would
    m = keras.models.load_model(str(got["model.keras"]), compile=False)
    assert scaled_error(ref, np.asarray(m(x, training=False))) <= TOLERANCE
    # the code + weights: the fine-tuning route
    gen = _import_generated(got["model.py"])
    m2 = gen.build_model()
    m2.load_weights(str(got["model.weights.h5"]))
    assert scaled_error(ref, np.asarray(m2(x, training=False))) <= TOLERANCE


@pytest.mark.integration
@pytest.mark.parametrize("fmt", ["legacy_h5", "legacy_savedmodel"])
def test_keras2_files_route_to_the_legacy_service(fmt, s3, bucket, gateway, tmp_path):
    """Keras 3 cannot load this Keras-2 MobileNetV2 .h5 (DepthwiseConv2D 'groups'): the
    gateway reads the file's Keras version and sends it to the Keras-2 service."""
    path = kz.ensure("mobilenetv2", fmt, CACHE, input_shape=(96, 96, 3))
    if path.is_dir():
        src = {}
        for f in sorted(path.rglob("*")):
            if f.is_file():
                key = f"src-keras2/{fmt}/{f.relative_to(path).as_posix()}"
                s3.client().upload_file(str(f), bucket, key)
        src = {"network": f"s3://{bucket}/src-keras2/{fmt}/"}
    else:
        src = upload(s3, bucket, f"src-keras2/{fmt}", {"network": path})
    res = gateway.convert("keras", src, "pytorch", f"s3://{bucket}/out-keras2/{fmt}")
    _check_report(res, "frontend-tf-legacy", "backend-pytorch")
    assert res.report["source"]["saved_by"]["keras"].startswith("2.")
    assert res.report["frameworks"]["frontend-tf-legacy"]["framework_version"] == "2.15.1"


@pytest.mark.integration
def test_savedmodel_folder_from_s3_to_pytorch(s3, bucket, gateway, tmp_path):
    """A Keras-3 export() SavedModel (a plain TF graph, no Keras metadata) as an S3 folder."""
    path = kz.ensure("mobilenetv2", "savedmodel", CACHE, input_shape=(96, 96, 3))
    for f in sorted(path.rglob("*")):
        if f.is_file():
            s3.client().upload_file(str(f), bucket, f"src-sm/m/{f.relative_to(path).as_posix()}")
    res = gateway.convert("tensorflow", {"network": f"s3://{bucket}/src-sm/m/"}, "pytorch",
                          f"s3://{bucket}/out-sm/m")
    _check_report(res, "frontend-tf", "backend-pytorch")


@pytest.mark.integration
def test_keras_to_onnx_matches_onnxruntime(s3, bucket, gateway, tmp_path):
    import onnxruntime as ort

    path = kz.ensure("mobilenetv2", "keras", CACHE, input_shape=(96, 96, 3))
    src = upload(s3, bucket, "src-keras-onnx/m", {"network": path})
    res = gateway.convert("keras", src, "onnx", f"s3://{bucket}/out-keras-onnx/m")
    v = _check_report(res, "frontend-tf", "backend-onnx")
    assert "onnxruntime" in json.dumps(v["target_runtime"]), v["target_runtime"]
    got = download(s3, bucket, "out-keras-onnx/m", ["model.onnx"], tmp_path)
    x = kz.sample_input("mobilenetv2", (96, 96, 3), seed=5)
    ref = _tf_reference(path, x)
    sess = ort.InferenceSession(str(got["model.onnx"]), providers=["CPUExecutionProvider"])
    out = sess.run(None, {sess.get_inputs()[0].name: _nchw(x)})[0]
    assert scaled_error(ref, out.reshape(ref.shape)) <= TOLERANCE


@pytest.mark.integration
def test_caffe_alexnet_to_tensorflow_matches_opencv(s3, bucket, gateway, tmp_path):
    """The classic MMdnn example: Caffe AlexNet (grouped convolutions, LRN) -> Keras."""
    import keras

    from tests.integration.helpers import opencv_forward
    from tests.zoo.build import build

    prototxt, caffemodel = build("alexnet")
    src = upload(s3, bucket, "src-alexnet-tf", {"network": prototxt, "weights": caffemodel})
    res = gateway.convert("caffe", src, "tensorflow", f"s3://{bucket}/out-alexnet-tf")
    v = _check_report(res, "frontend-caffe", "backend-tf")
    assert v["source_runtime"]["runtime"].startswith("opencv-dnn")
    assert v["pre_softmax"] and all(p["pass"] for p in v["pre_softmax"]), v["pre_softmax"]
    got = download(s3, bucket, "out-alexnet-tf", ["model.keras"], tmp_path)
    x = np.random.default_rng(11).standard_normal((1, 3, 227, 227)).astype(np.float32)
    ref = opencv_forward(prototxt, caffemodel, {"data": x}, ["prob"])["prob"].reshape(-1)
    # LRN is composed of built-in Keras ops: the .keras file loads in safe mode by itself
    m = keras.models.load_model(str(got["model.keras"]), compile=False)
    out = np.asarray(m(np.ascontiguousarray(x.transpose(0, 2, 3, 1)), training=False))
    out = out.reshape(-1)
    assert scaled_error(ref, out) <= TOLERANCE
    # log-probabilities: a softmax over 1000 classes cannot hide an error there
    lr, lo = np.log(ref), np.log(out)
    assert scaled_error(lr - lr.mean(), lo - lo.mean()) <= TOLERANCE


def _text_model(path: Path) -> Path:
    """Token ids -> Embedding -> Bidirectional LSTM -> GRU -> Dense, random seeded weights."""
    import keras

    keras.utils.set_random_seed(11)
    tokens = keras.Input((12,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(50, 16, name="embed")(tokens)
    x = keras.layers.Bidirectional(keras.layers.LSTM(12, return_sequences=True),
                                   name="bilstm")(x)
    x = keras.layers.GRU(8, name="gru")(x)
    out = keras.layers.Dense(3, name="logits")(x)
    keras.Model(tokens, out).save(path)
    return path


@pytest.mark.integration
@pytest.mark.parametrize("target", ["pytorch", "onnx", "keras"])
def test_keras_text_model_recurrent(target, s3, bucket, gateway, tmp_path):
    """Embedding and recurrent layers through the gateway (to PyTorch, ONNX, and back to Keras),
    verified against TensorFlow on the gateway's integer token ids, then checked here on
    tokens of our own."""
    import onnxruntime as ort

    path = _text_model(tmp_path / "text.keras")
    src = upload(s3, bucket, f"src-keras-text/{target}", {"network": path})
    res = gateway.convert("keras", src, target, f"s3://{bucket}/out-keras-text/{target}")
    _check_report(res, "frontend-tf", "backend-tf" if target == "keras" else f"backend-{target}")
    tokens = np.random.default_rng(3).integers(0, 50, size=(1, 12)).astype(np.int32)
    ref = _tf_reference(path, tokens)
    names = {"pytorch": ["model.py", "weights.pth"], "onnx": ["model.onnx"],
             "keras": ["model.keras"]}[target]
    got = download(s3, bucket, f"out-keras-text/{target}", names, tmp_path)
    if target == "pytorch":
        outs, _, _ = torch_forward(got["model.py"], got["weights.pth"], [tokens])
        out = outs[0]
    elif target == "onnx":
        sess = ort.InferenceSession(str(got["model.onnx"]), providers=["CPUExecutionProvider"])
        out = sess.run(None, {sess.get_inputs()[0].name: tokens})[0]
    else:                                        # safe mode: no custom code in the file
        out = _tf_reference(got["model.keras"], tokens)
    assert out.shape == ref.shape
    assert scaled_error(ref, out) <= TOLERANCE
