"""Run in the frontend-tf-legacy venv (TensorFlow 2.15, Keras 2) by test_legacy.py:

    python tests/frontend_tf/_legacy_driver.py WORKDIR

Converts every layer case of _cases.py under Keras 2 and compares with Keras 2 itself; saves
a Keras-2 .h5 and a Keras-2 SavedModel and converts / runs them with the service class as
frontend-tf-legacy runs it; refuses a Lambda. Prints one JSON line with the results (and
leaves the .h5 with its input / output in WORKDIR for the Keras 3 side)."""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "services" / "frontend-tf")]

import numpy as np  # noqa: E402

from nnrosetta.ir import registry  # noqa: E402
from tests.frontend_tf._cases import (  # noqa: E402
    CASES,
    KERAS2_MODELS,
    MODELS,
    recurrent_model,
    small_model,
)
from tests.frontend_tf._keras import check, keras, rand, randomize, rel_err  # noqa: E402


def cases(K) -> dict:
    out = {"ok": [], "failed": {}, "not_in_keras2": []}
    for name, build in sorted({**CASES, **MODELS, **KERAS2_MODELS}.items()):
        try:
            model, xs = build(K)
        except Exception as e:  # noqa: BLE001 - a Keras 3-only layer or argument
            out["not_in_keras2"].append(f"{name}: {type(e).__name__}: {str(e)[:120]}")
            continue
        try:
            randomize(model, seed=len(name))
            check(model, xs)
            out["ok"].append(name)
        except Exception as e:  # noqa: BLE001 - reported to the test
            out["failed"][name] = f"{type(e).__name__}: {str(e)[:400]}"
    return out


def files(K, work: Path) -> dict:
    from nnrosetta.ir.graph import Graph
    from nnrosetta.rpc.converter import Model
    from nnrosetta.rpc.errors import ConversionError
    from nnrosetta_frontend_tf import TFConverter

    res: dict = {}
    conv = TFConverter(name="frontend-tf-legacy")
    conv.load()
    res["describe"] = {k: conv.describe()[k] for k in ("framework_version", "runtime")}
    res["describe"]["keras"] = conv.describe()["versions"]["keras"]
    m = small_model(K)
    x = rand(2, 8, 8, 3, seed=9)
    ref = np.asarray(m(x, training=False))
    h5 = work / "legacy.h5"
    m.save(h5)
    sm = work / "legacy_savedmodel"
    m.save(sm, save_format="tf")
    np.savez(work / "legacy_io.npz", x=x, y=ref)
    xi = np.transpose(x, (0, 3, 1, 2))
    for kind, path in (("h5", h5), ("savedmodel", sm)):
        model = Model("keras", files={"network": str(path)})
        items = list(conv.to_ir(model))
        graph = next(i for i in items if isinstance(i, Graph))
        weights = dict(i for i in items if isinstance(i, tuple))
        got = registry.run_reference(graph, weights, {graph.inputs[0].name: xi})
        outs, info = conv.run(model, {graph.inputs[0].name: xi}, ["relu", "logits"])
        res[kind] = {"ir_err": rel_err(got[graph.outputs[0]], ref),
                     "run_err": rel_err(outs[1][1], ref),
                     "relu_shape": list(outs[0][1].shape), "runtime": info["runtime"],
                     "keras_file": graph.metadata.get("keras_file")}
    # a Lambda in a Keras-2 .h5 is refused before Keras unmarshals its code
    L = K.layers
    i = K.Input((4,))
    lam = K.Model(i, L.Lambda(lambda t: t + 1.0, name="plus_one")(i))
    lp = work / "lambda.h5"
    lam.save(lp)
    lsm = work / "lambda_savedmodel"
    lam.save(lsm, save_format="tf")
    for key, path in (("lambda", lp), ("lambda_savedmodel", lsm)):
        try:
            list(conv.to_ir(Model("keras", files={"network": str(path)})))
            res[key] = "converted?!"
        except ConversionError as e:
            res[key] = [(i.code, i.location) for i in e.issues]
    # every unsupported layer at once, in an .h5 and a SavedModel
    j = K.Input((5, 4))
    y = L.RNN([L.LSTMCell(3), L.LSTMCell(3)], return_sequences=True, name="rnn")(j)  # stacked
    y = L.Dense(3, name="fine")(y)
    y = L.TimeDistributed(L.RepeatVector(2), name="td")(y)   # an inner layer it refuses
    bad = K.Model(j, y)
    for key, path in (("unsupported_h5", work / "bad.h5"),
                      ("unsupported_savedmodel", work / "bad_savedmodel")):
        bad.save(path, **({} if key.endswith("h5") else {"save_format": "tf"}))
        issues, _ = conv.check(Model("keras", files={"network": str(path)}))
        res[key] = sorted((i.code, i.location) for i in issues)
    res["recurrent_h5"] = recurrent_h5(K, conv, work)
    res["recurrent_refused"] = recurrent_refused(K)
    return res


def recurrent_refused(K) -> dict:
    """A stateful LSTM and a mask read by an LSTM, under Keras 2: (code, location) each."""
    from nnrosetta_frontend_tf.keras_import import convert_keras

    L = K.layers
    i = K.Input(batch_shape=(2, 6, 4))
    x = L.LSTM(4, stateful=True, return_sequences=True, name="memory")(i)
    stateful = convert_keras(K.Model(i, L.Dense(2, name="head")(x)), {})
    j = K.Input((5,), dtype="int32")
    y = L.LSTM(2, name="lstm")(L.Embedding(7, 3, mask_zero=True, name="emb")(j))
    masked = convert_keras(K.Model(j, y), {})
    return {"stateful": [(x.code, x.location) for x in stateful.issues],
            "mask": [(x.code, x.location) for x in masked.issues]}


def recurrent_h5(K, conv, work: Path) -> dict:
    """A Keras-2 .h5 with recurrent layers (Embedding, Bidirectional LSTM, GRU with
    reset_after=False, go_backwards), converted as frontend-tf-legacy does; left in WORKDIR
    with its input / output for the Keras 3 side."""
    from nnrosetta.ir.graph import Graph
    from nnrosetta.rpc.converter import Model

    m = recurrent_model(K)
    rng = np.random.default_rng(11)
    ids = rng.integers(0, 9, (2, 6)).astype(np.int32)
    ref = np.asarray(m(ids, training=False))
    path = work / "recurrent.h5"
    m.save(path)
    np.savez(work / "recurrent_io.npz", x=ids, y=ref)
    items = list(conv.to_ir(Model("keras", files={"network": str(path)})))
    graph = next(i for i in items if isinstance(i, Graph))
    weights = dict(i for i in items if isinstance(i, tuple))
    got = registry.run_reference(graph, weights, {graph.inputs[0].name: ids})
    return {"ir_err": rel_err(got[graph.outputs[0]], ref),
            "ops": sorted({n.op for n in graph.nodes}),
            "input_dtype": graph.inputs[0].attrs.get("dtype")}


def main() -> int:
    work = Path(sys.argv[1])
    K = keras()
    result = {"keras": K.__version__}
    try:
        result["cases"] = cases(K)
        result["files"] = files(K, work)
    except Exception:  # noqa: BLE001 - the test shows it
        result["error"] = traceback.format_exc()
    print("RESULT " + json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
