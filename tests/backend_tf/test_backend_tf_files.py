"""What FromIR delivers, used as a user would: model.keras with keras.models.load_model (safe
mode), model.py + model.weights.h5, the SavedModel with tf.saved_model.load; all give the
IR reference's numbers. Run reads the same files (by name, by role, as a folder), the
``artifacts`` and ``use`` options, and Run of format "ir" from the kept weights."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf

from nnrosetta.ir import registry
from nnrosetta.rpc.converter import Model, Progress
from nnrosetta.rpc.errors import ConversionError
from nnrosetta_backend_tf.service import META_JSON, MODEL_KERAS, MODEL_PY, WEIGHTS_H5

from ._cases import CASES, close, feeds

SAVED_MODEL_FILES = {f"saved_model/{n}" for n in (
    "saved_model.pb", "fingerprint.pb", "variables/variables.index",
    "variables/variables.data-00000-of-00001", f"assets/{META_JSON}")}
ALL_FILES = {MODEL_PY, WEIGHTS_H5, MODEL_KERAS} | SAVED_MODEL_FILES


def convert(backend, g, w, folder, **options) -> tuple[dict[str, str], list[str]]:
    files, stages = {}, []
    for item in backend.from_ir(g, w, {k: str(v) for k, v in options.items()}, str(folder)):
        if isinstance(item, Progress):
            stages.append(item.stage)
        else:
            files[item[0]] = item[1]
    return files, stages


def import_as_user(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def nhwc(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


@pytest.fixture(scope="module")
def delivered(backend, tmp_path_factory):
    """caffe_like converted with every artifact."""
    g, w = CASES["caffe_like"]()
    folder = tmp_path_factory.mktemp("caffe_like")
    files, stages = convert(backend, g, w, folder)
    return g, w, files, stages, folder


def test_files_and_progress(delivered):
    _, _, files, stages, folder = delivered
    assert set(files) == ALL_FILES
    assert stages[:2] == ["codegen", "build"] and stages[-1] == "done"
    assert (folder / "saved_model" / "variables" / "variables.index").is_file()
    with zipfile.ZipFile(files[MODEL_KERAS]) as z:
        meta = json.loads(z.read(META_JSON))
    assert meta["inputs"] == [{"ir": "data", "keras": "data", "shape": [2, 3, 8, 8],
                               "perm": [0, 2, 3, 1], "dtype": "float32"}]
    assert meta["outputs"][0]["ir"] == "prob" and meta["custom_layers"] == []


def test_loaded_as_a_user_would(delivered, tmp_path):
    """The three deliverables, loaded with Keras / TensorFlow directly, agree with the IR."""
    g, w, files, _, folder = delivered
    x = feeds(g)
    ref = registry.run_reference(g, w, x, ["prob", "loss3/classifier"])["prob"]
    net = keras.models.load_model(files[MODEL_KERAS], safe_mode=True)   # no import model
    from_keras = net(nhwc(x["data"]), training=False).numpy()
    mod = import_as_user(files[MODEL_PY], "model_caffe_like")
    rebuilt = mod.build_model()
    rebuilt.load_weights(files[WEIGHTS_H5])
    from_code = rebuilt.predict(nhwc(x["data"]), verbose=0)
    loaded = tf.saved_model.load(str(folder / "saved_model"))
    serving = loaded.signatures["serving_default"]
    from_saved = serving(data=tf.constant(nhwc(x["data"])))["output_0"].numpy()
    for got in (from_keras, from_code, from_saved):
        close(got, ref)
    np.testing.assert_allclose(from_saved, from_keras, rtol=0, atol=1e-6)
    np.testing.assert_allclose(from_code, from_keras, rtol=0, atol=1e-6)
    assert mod.INPUT_PERMS == {"data": [0, 2, 3, 1]} and mod.OUTPUTS == ["prob"]


@pytest.mark.parametrize("fmt,use,mode", [("keras", None, "keras"),
                                          ("tensorflow", None, "savedmodel"),
                                          ("keras", "savedmodel", "savedmodel"),
                                          ("tensorflow", "keras", "keras")])
def test_run_formats(delivered, backend, fmt, use, mode, tmp_path):
    g, w, files, _, _ = delivered
    x = feeds(g, seed=3)
    ref = registry.run_reference(g, w, x)
    options = {"use": use} if use else {}
    outs, info = backend.run(Model(format=fmt, files=files, options=options,
                                   workdir=str(tmp_path)), x, [])
    assert info["mode"] == mode and [k for k, _ in outs] == ["prob"]
    close(outs[0][1], ref["prob"])


@pytest.mark.parametrize("flat", [False, True])
def test_run_files_received_by_name(delivered, backend, tmp_path, flat):
    """Files received one by one into another folder under their names (as the gateway sends
    them: ``saved_model/variables/variables.index``, ...; or by a client that flattened the
    folder to base names): the SavedModel folder is put back together."""
    g, w, files, _, _ = delivered
    got = {}
    for name, path in files.items():
        name = name.rsplit("/", 1)[-1] if flat else name
        got[name] = str(tmp_path / "in" / name.replace("/", "_"))
        (tmp_path / "in").mkdir(exist_ok=True)
        shutil.copyfile(path, got[name])
    x = feeds(g)
    ref = registry.run_reference(g, w, x)
    work = tmp_path / "work"
    work.mkdir()
    outs, info = backend.run(Model(format="tensorflow", files=got, workdir=str(work)), x,
                             ["prob"])
    assert info["mode"] == "savedmodel"
    close(outs[0][1], ref["prob"])
    folder = work / ("saved_model" if flat else "saved_model.d")
    assert (folder / "variables" / "variables.index").exists()


def test_run_user_files_by_role(delivered, backend, tmp_path):
    g, w, files, _, folder = delivered
    x = feeds(g)
    ref = registry.run_reference(g, w, x)["prob"]
    outs, _ = backend.run(Model(format="tensorflow",
                                files={"network": str(folder / "saved_model")}), x, [])
    close(outs[0][1], ref)
    outs, _ = backend.run(Model(format="keras", files={"network": files[MODEL_KERAS]}), x, [])
    close(outs[0][1], ref)


def test_run_errors(delivered, backend, tmp_path):
    g, _, files, _, _ = delivered
    x = feeds(g)
    with pytest.raises(ConversionError, match="returns the model outputs"):
        backend.run(Model(format="keras", files=files), x, ["bn"])
    with pytest.raises(ConversionError, match="not fed"):
        backend.run(Model(format="keras", files=files), {}, [])
    with pytest.raises(ConversionError, match="use="):
        backend.run(Model(format="keras", files=files, options={"use": "jax"}), x, [])
    with pytest.raises(ConversionError, match="formats"):
        backend.run(Model(format="onnx", files=files), x, [])
    only_code = {MODEL_PY: files[MODEL_PY]}
    with pytest.raises(ConversionError, match="SavedModel"):
        backend.run(Model(format="tensorflow", files=only_code, workdir=str(tmp_path)), x, [])


@pytest.mark.parametrize("artifacts,expected", [
    ("code", {MODEL_PY, WEIGHTS_H5}),
    ("keras", {MODEL_KERAS}),
    ("savedmodel", SAVED_MODEL_FILES),
])
def test_artifacts_option(backend, artifacts, expected, tmp_path):
    g, w = CASES["flatten_dense"]()
    files, _ = convert(backend, g, w, tmp_path, artifacts=artifacts)
    assert set(files) == expected
    if artifacts == "code":   # model.weights.h5 (taken from the .keras) loads by itself
        mod = import_as_user(files[MODEL_PY], "model_flatten_dense")
        net = mod.build_model()
        net.load_weights(files[WEIGHTS_H5])
        x = feeds(g)
        ref = registry.run_reference(g, w, x)
        outs = net(nhwc(x["data"]), training=False)
        close(outs[0].numpy(), ref["fc"])
        close(outs[1].numpy(), ref["fc2"])


def test_bad_artifacts(backend, tmp_path):
    g, w = CASES["relu"]()
    with pytest.raises(ConversionError, match="artifacts"):
        convert(backend, g, w, tmp_path, artifacts="everything")


def test_custom_layer_model_needs_model_py(backend, tmp_path):
    """A standalone Caffe Scale is model.py's Scale layer: model.keras loads after
    ``import model`` (safe mode refuses the unknown class before); Run sends model.py along."""
    g, w = CASES["scale"]()
    (tmp_path / "keras_only").mkdir()
    files, _ = convert(backend, g, w, tmp_path / "keras_only", artifacts="keras")
    assert set(files) == {MODEL_KERAS, MODEL_PY}    # model.py comes along: it is needed
    files, _ = convert(backend, g, w, tmp_path, artifacts="all")
    x = feeds(g)
    ref = registry.run_reference(g, w, x)["n"]
    outs, _ = backend.run(Model(format="keras", files=files), x, [])
    close(outs[0][1], ref)
    outs, _ = backend.run(Model(format="tensorflow", files=files, workdir=str(tmp_path)), x, [])
    close(outs[0][1], ref)
    no_code = {k: v for k, v in files.items() if k != MODEL_PY}
    with pytest.raises(ConversionError, match="custom layers"):
        backend.run(Model(format="keras", files=no_code), x, [])
    import_as_user(files[MODEL_PY], "model_scale")
    net = keras.models.load_model(files[MODEL_KERAS], safe_mode=True)
    close(np.asarray(net(nhwc(x["data"]))).transpose(0, 3, 1, 2), ref)


def test_multiple_inputs_and_outputs(backend, tmp_path):
    g, w = CASES["concat_branches"]()
    files, _ = convert(backend, g, w, tmp_path, artifacts="model")
    x = feeds(g)
    ref = registry.run_reference(g, w, x)
    for fmt in ("keras", "tensorflow"):
        outs, _ = backend.run(Model(format=fmt, files=files, workdir=str(tmp_path)), x, [])
        assert [k for k, _ in outs] == ["cat", "cat_h"]
        for k, v in outs:
            close(v, ref[k])
    g, w = CASES["add_coeffs"]()
    (tmp_path / "add").mkdir()
    files, _ = convert(backend, g, w, tmp_path / "add", artifacts="savedmodel")
    x = feeds(g)
    outs, _ = backend.run(Model(format="tensorflow", files=files, workdir=str(tmp_path)), x, [])
    close(outs[0][1], registry.run_reference(g, w, x)["y"])


def test_run_ir_from_kept_weights(delivered, backend, tmp_path):
    """The gateway's locate step: format "ir", no IR weights sent, the kept files hold them."""
    g, w, files, _, _ = delivered
    x = feeds(g)
    fetch = ["pool1/norm1", "loss3/classifier", "bn"]
    ref = registry.run_reference(g, w, x, fetch)
    model = Model(format="ir", graph=g, weights={}, files=files, workdir=str(tmp_path))
    outs, info = backend.run(model, x, fetch)
    assert info["mode"] == "ir-kept-weights"
    for k, v in outs:
        close(v, ref[k])
    with pytest.raises(ConversionError, match="model.weights.h5 this service wrote"):
        backend.run(Model(format="ir", graph=g, weights={}, files={}), x, fetch)
