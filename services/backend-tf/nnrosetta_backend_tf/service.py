"""The backend-tf Converter: IR in, Keras 3 code + weights + .keras + SavedModel out; Run in
TensorFlow.

Files it writes (FromIR) and reads (Run, formats "keras" and "tensorflow": the same files):

* ``model.py``: readable Keras functional-API source, ``build_model()``, ``INPUTS`` /
  ``OUTPUTS`` and the layout permutations (the model is channels-last, the IR channels-first).
* ``model.weights.h5``: the weights, ``build_model().load_weights("model.weights.h5")``.
* ``model.keras``: the whole model, ``keras.models.load_model("model.keras")`` (safe mode; a
  model that needs model.py's custom layers says so in model.py: ``import model`` first).
* ``saved_model/``: the SavedModel (``model.export``, signature ``serving_default``), its
  files named by their path in the folder (``saved_model/saved_model.pb``,
  ``saved_model/variables/variables.index``, ...). ``saved_model/assets/nnrosetta.json`` (also
  inside ``model.keras``) names the IR inputs and outputs of the Keras tensors and their
  layouts, so that Run answers in IR names and layout.

FromIR option ``artifacts``: ``all`` (default), ``code`` (model.py + model.weights.h5),
``model`` (model.keras + the SavedModel), ``keras`` (model.keras), ``savedmodel``. Run option
``use``: ``keras`` (load model.keras; the default for format "keras") or ``savedmodel``
(``tf.saved_model.load``; the default for format "tensorflow"). FromIR sends Progress stage
``runnable`` once model.keras is out (run options ``use=keras``) and once the SavedModel is
(``use=savedmodel``): the gateway verifies each form. (model.py + model.weights.h5 build the
very model that model.keras holds; Run does not load them on their own.)

Security: Run imports ``model.py`` (format "ir", or a model.keras with custom layers) and so
executes it. The only code ever sent to Run is code this service generated itself (the gateway
hands back our own FromIR output to verify it); this service is not a sandbox and must never
be exposed to callers that send arbitrary code. ``model.keras`` is always loaded with Keras'
safe mode on.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import threading
import uuid
import warnings
import zipfile
from collections.abc import Iterator, Mapping
from typing import Any

import grpc
import numpy as np

from nnrosetta.ir.graph import Graph, make_ref, split_ref
from nnrosetta.rpc.converter import RUNNABLE, Converter, Model, Progress, folder_of
from nnrosetta.rpc.errors import ConversionError, Issue
from nnrosetta_backend_tf import codegen, emitters
from nnrosetta_backend_tf.layout import Layout

MODEL_PY = "model.py"
WEIGHTS_H5 = "model.weights.h5"
MODEL_KERAS = "model.keras"
SAVED_MODEL = "saved_model"
META_JSON = "nnrosetta.json"
ARTIFACTS = {
    "all": ("code", "weights", "keras", "savedmodel"),
    "code": ("code", "weights"),
    "model": ("keras", "savedmodel"),
    "keras": ("keras",),
    "savedmodel": ("savedmodel",),
}
USES = ("keras", "savedmodel")
# Keras 3.15 turns variables into arrays with np.array(tf_variable) when it saves a model,
# which NumPy 2 reports on every call; nothing to act on here.
warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept a copy",
                        category=DeprecationWarning)
ASSIGN_BLOCK_BYTES = 32 << 20


def _bad(msg: str, code: str = "BAD_REQUEST", location: str = "") -> ConversionError:
    return ConversionError(grpc.StatusCode.INVALID_ARGUMENT, msg, [Issue(code, location, msg)],
                           reason=code)


def configure_tensorflow() -> None:
    """Quiet logs; thread counts from NNROSETTA_TF_THREADS (0 or unset: TensorFlow's)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")   # e.g. the retracing notes of grouped convolutions
    threads = int(os.environ.get("NNROSETTA_TF_THREADS", "0") or 0)
    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:   # already initialised: keep what is set
            pass


def import_generated(path: str) -> Any:
    """Import a model.py that this service generated (see the module docstring). Importing it
    registers its custom layers with Keras; ``forget`` removes the module again."""
    name = f"nnrosetta_keras_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise _bad(f"cannot import {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception:
        sys.modules.pop(name, None)
        raise
    return mod


def forget(mod: Any) -> None:
    sys.modules.pop(getattr(mod, "__name__", ""), None)


def build(mod: Any) -> Any:
    """``mod.build_model()`` (zero-initialised: its weights are assigned next); a model that
    Keras refuses to build is this service's fault, reported with Keras' words."""
    try:
        with zero_initialized():
            return mod.build_model()
    except Exception as e:  # noqa: BLE001 - Keras raises ValueError, TypeError, ...
        raise ConversionError(grpc.StatusCode.INTERNAL,
                              f"the generated model.py does not build: {type(e).__name__}: "
                              f"{e}", [Issue("BUILD", "", str(e))], reason="BUILD") from e


def set_weights(net: Any, weights: dict[str, list[Any]]) -> None:
    """Give every layer its arrays, emptying ``weights`` as it goes (each layer's arrays are
    made, assigned and dropped in turn); a layer with weights that gets none is an error (it
    would keep its random initialisation)."""
    missing = [layer.name for layer in net.layers if layer.weights and layer.name not in weights]
    if missing:
        raise ConversionError(grpc.StatusCode.INTERNAL,
                              f"no weights were generated for layers {missing[:5]}",
                              reason="CODEGEN")
    for name in list(weights):
        layer = net.get_layer(name)
        arrays = weights.pop(name)
        have = [tuple(v.shape) for v in layer.weights]
        if have != [tuple(np.shape(a)) for a in arrays]:
            raise ConversionError(grpc.StatusCode.INTERNAL,
                                  f"layer {name}: the weights do not fit: the layer has "
                                  f"{have}, the IR gives {[np.shape(a) for a in arrays]}",
                                  reason="CODEGEN")
        for variable, array in zip(layer.weights, arrays, strict=True):
            assign(variable, array)


def assign(variable: Any, array: Any) -> None:
    """variable = array, in blocks of rows when it is large (a large matrix is then never
    copied whole on the way: a VGG-16 fc6 kernel is 400 MB)."""
    shape = tuple(variable.shape)
    dtype = np.dtype(variable.dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if not shape or nbytes <= ASSIGN_BLOCK_BYTES or shape[0] == 1:
        variable.assign(codegen.materialize(array).astype(dtype, copy=False))
        return
    step = max(1, ASSIGN_BLOCK_BYTES * shape[0] // nbytes)
    for start in range(0, shape[0], step):
        stop = min(start + step, shape[0])
        rows = codegen.weight_rows(array, start, stop).astype(dtype, copy=False)
        variable.value[start:stop].assign(rows)


_ZERO_INIT = threading.RLock()


@contextlib.contextmanager
def zero_initialized() -> Iterator[None]:
    """Layers built inside get zero-filled weights instead of random ones. Every model this
    service builds has its weights assigned right after (set_weights, or loaded from a file),
    and random initialisation of a large model costs seconds and, in TensorFlow's allocator,
    about twice the weights' memory (VGG-16: 1.2 GB more)."""
    from keras.src.layers.layer import Layer

    with _ZERO_INIT:
        original = Layer.add_weight

        def add_weight(self, *args, **kwargs):
            if len(args) >= 2:      # add_weight(shape, initializer, ...)
                args = (args[0], "zeros", *args[2:])
            else:
                kwargs["initializer"] = "zeros"
            return original(self, *args, **kwargs)

        Layer.add_weight = add_weight
        try:
            yield
        finally:
            Layer.add_weight = original


def feed_values(meta_inputs: list[dict], inputs: Mapping[str, np.ndarray],
                ) -> list[np.ndarray]:
    """IR inputs (IR layout) -> the Keras inputs in order (their layout)."""
    missing = [i["ir"] for i in meta_inputs if i["ir"] not in inputs]
    if missing:
        raise _bad(f"inputs {missing} were not fed (model inputs: "
                   f"{[i['ir'] for i in meta_inputs]})", "MISSING_INPUT", ",".join(missing))
    out = []
    for i in meta_inputs:
        v = np.asarray(inputs[i["ir"]])
        if v.dtype == np.float64 and i.get("dtype", "float32") == "float32":
            v = v.astype(np.float32)
        if len(i["perm"]) != v.ndim:
            raise _bad(f"input {i['ir']!r} has rank {v.ndim}; the model takes rank "
                       f"{len(i['perm'])} {i['shape']}", "BAD_INPUT", i["ir"])
        out.append(np.ascontiguousarray(np.transpose(v, i["perm"])))
    return out


def ir_values(meta_outputs: list[dict], values: list[Any]) -> list[tuple[str, np.ndarray]]:
    """The Keras outputs (their layouts) -> (IR ref, value in IR layout)."""
    out = []
    for o, v in zip(meta_outputs, values, strict=True):
        arr = np.asarray(v.numpy() if hasattr(v, "numpy") else v)
        out.append((o["ir"], Layout.from_json(o["layout"]).to_ir(arr)))
    return out


def _as_list(out: Any) -> list[Any]:
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _call(net: Any, feeds: list[np.ndarray]) -> list[Any]:
    """The model's outputs, a list; one input is passed alone (as the model takes it)."""
    return _as_list(net(feeds[0] if len(feeds) == 1 else feeds, training=False))


class TensorFlowBackend(Converter):
    name = "backend-tf"

    def load(self) -> None:
        configure_tensorflow()
        import keras  # noqa: F401 - the slow part of startup; health turns SERVING after

        emitters.all_emitters()
        codegen.keras_op_names()

    # -- Describe ------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        import google.protobuf
        import h5py
        import keras
        import tensorflow as tf

        return {
            "framework": "tensorflow",
            "framework_version": tf.__version__,
            "reads": ["ir"],
            "writes": ["keras", "tensorflow"],
            "ops_supported": emitters.supported_ops(),
            "versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                         "numpy": np.__version__, "protobuf": google.protobuf.__version__,
                         "h5py": h5py.__version__, "grpcio": grpc.__version__,
                         "python": sys.version.split()[0]},
            "runtime": f"TensorFlow {tf.__version__} (Keras {keras.__version__})",
        }

    # -- Check ---------------------------------------------------------------------------------
    @staticmethod
    def issues(graph: Graph) -> list[Issue]:
        """Every node the backend cannot write; when there is none, the code is generated
        once (from the weights' shapes only) so that Check finds what generation would."""
        out = [Issue("UNSUPPORTED_OP", node, f"{op}: {msg}")
               for node, op, msg in codegen.problems(graph)]
        if not out:
            try:
                codegen.generate(graph, _ShapeOnlyWeights(graph))
            except codegen.CodegenError as e:
                out.append(Issue("CODEGEN", e.node, e.message))
            except Exception as e:  # noqa: BLE001 - e.g. a graph whose shapes do not infer
                out.append(Issue("CODEGEN", "", f"{type(e).__name__}: {e}"))
        return out

    def check(self, model: Model) -> tuple[list[Issue], Graph | None]:
        if model.format != "ir":
            return [Issue("BAD_FORMAT", "format",
                          f"backend-tf checks IR graphs (format 'ir'), not {model.format!r}")
                    ], None
        if model.graph is None:
            return [Issue("MISSING_FILE", "network", "format 'ir' needs the graph (graph.pb)")
                    ], None
        return self.issues(model.graph), None

    def _refuse(self, graph: Graph) -> None:
        issues = self.issues(graph)
        if issues:
            raise ConversionError(grpc.StatusCode.UNIMPLEMENTED,
                                  f"backend-tf cannot emit {len(issues)} node(s) as Keras "
                                  "layers", issues, reason="UNSUPPORTED_OP")

    @staticmethod
    def _generate(graph: Graph, weights: Mapping[str, np.ndarray],
                  taps: list[str] | None = None) -> codegen.Generated:
        try:
            return codegen.generate(graph, weights, taps or ())
        except codegen.CodegenError as e:
            raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, str(e),
                                  [Issue("CODEGEN", e.node, e.message)], reason="CODEGEN") from e

    # -- FromIR --------------------------------------------------------------------------------
    def from_ir(self, graph: Graph, weights: dict[str, np.ndarray], options: dict[str, str],
                workdir: str) -> Iterator[Any]:
        artifacts = options.get("artifacts", "all")
        if artifacts not in ARTIFACTS:
            raise _bad(f"option artifacts={artifacts!r}: use one of {sorted(ARTIFACTS)}",
                       "BAD_OPTION", "artifacts")
        wanted = ARTIFACTS[artifacts]
        self._refuse(graph)
        yield Progress("codegen", f"generating {MODEL_PY} for {len(graph.nodes)} nodes", 0.0)
        gen = self._generate(graph, weights)
        code_path = os.path.join(workdir, MODEL_PY)
        with open(code_path, "w", encoding="utf-8") as f:
            f.write(gen.source)
        if "code" in wanted or (gen.custom_layers and "keras" in wanted):
            # model.keras with custom layers cannot be loaded without the file defining them
            yield (MODEL_PY, code_path)
        meta = json.dumps(gen.meta(), indent=1)
        yield Progress("build", f"building the Keras model ({len(gen.weights)} layers with "
                       "weights)", 0.0)
        mod = import_generated(code_path)
        try:
            net = build(mod)
            set_weights(net, gen.weights)   # the Keras variables hold them now
            keras_path = os.path.join(workdir, MODEL_KERAS)
            if "keras" in wanted or "weights" in wanted:
                yield Progress("keras", f"writing {MODEL_KERAS}", 0.0)
                net.save(keras_path)
                with zipfile.ZipFile(keras_path, "a") as z:   # Keras ignores unknown entries
                    z.writestr(META_JSON, meta)
            if "weights" in wanted:
                # model.keras holds the very file save_weights writes (same layout): a copy
                # instead of serializing every weight a second time
                path = os.path.join(workdir, WEIGHTS_H5)
                with zipfile.ZipFile(keras_path) as z, z.open(WEIGHTS_H5) as src, \
                        open(path, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
                yield (WEIGHTS_H5, path)
            if "keras" in wanted:
                yield (MODEL_KERAS, keras_path)
                yield Progress(RUNNABLE, f"{MODEL_KERAS} written", 1.0, {"use": "keras"})
            elif os.path.exists(keras_path):
                os.unlink(keras_path)
            if "savedmodel" in wanted:
                yield Progress("savedmodel", "exporting the SavedModel (serving_default)", 0.0)
                folder = os.path.join(workdir, SAVED_MODEL)
                net.export(folder, format="tf_saved_model", verbose=False)
                os.makedirs(os.path.join(folder, "assets"), exist_ok=True)
                with open(os.path.join(folder, "assets", META_JSON), "w") as f:
                    f.write(meta)
                for rel in saved_model_files(folder):
                    yield (f"{SAVED_MODEL}/{rel}", os.path.join(folder, rel))
                yield Progress(RUNNABLE, "the SavedModel written", 1.0, {"use": "savedmodel"})
            yield Progress("done", f"{gen.model_name}: {len(net.layers)} Keras layers", 1.0)
        finally:
            forget(mod)

    # -- Run -----------------------------------------------------------------------------------
    def run(self, model: Model, inputs: dict[str, np.ndarray], fetch: list[str],
            ) -> tuple[list[tuple[str, np.ndarray]], dict[str, str]]:
        import keras
        import tensorflow as tf

        info = {"tensorflow": tf.__version__, "keras": keras.__version__}
        if model.format == "ir":
            outs, info["mode"] = self._run_ir(model, inputs, fetch)
            return outs, info
        if model.format not in ("keras", "tensorflow"):
            raise _bad(f"Run reads formats 'keras', 'tensorflow' or 'ir', not "
                       f"{model.format!r}", "BAD_FORMAT", "format")
        files = DeliveredFiles(model)
        default = "savedmodel" if model.format == "tensorflow" and files.saved_model() \
            else "keras" if files.keras() else "savedmodel"
        use = model.options.get("use", default)
        if use not in USES:
            raise _bad(f"option use={use!r}: use one of {list(USES)}", "BAD_OPTION", "use")
        if use == "keras":
            result = self._run_keras(files, inputs)
        else:
            result = self._run_saved_model(files, inputs)
        info["mode"] = use
        if fetch:
            by = dict(result)
            missing = [f for f in fetch if f not in by]
            if missing:
                raise _bad(f"fetch {missing}: format {model.format!r} returns the model "
                           f"outputs {list(by)} only; send format 'ir' to fetch "
                           "intermediate nodes", "BAD_FETCH", "fetch")
            result = [(f, by[f]) for f in fetch]
        return result, info

    def _run_keras(self, files: DeliveredFiles, inputs: Mapping[str, np.ndarray],
                   ) -> list[tuple[str, np.ndarray]]:
        import keras

        path = files.keras()
        if path is None:
            raise _bad(f"use=keras needs {MODEL_KERAS}", "MISSING_FILE", MODEL_KERAS)
        with zipfile.ZipFile(path) as z:
            if META_JSON not in z.namelist():
                raise _bad(f"{MODEL_KERAS} carries no {META_JSON} (not written by backend-tf)",
                           "BAD_MODEL", MODEL_KERAS)
            meta = json.loads(z.read(META_JSON))
        mod = None
        if meta.get("custom_layers"):
            code = files.code()
            if code is None:
                raise _bad(f"{MODEL_KERAS} uses custom layers {meta['custom_layers']} that "
                           f"{MODEL_PY} defines: send it too", "MISSING_FILE", MODEL_PY)
            mod = import_generated(code)
        try:
            with zero_initialized():   # every weight comes from the file
                net = keras.models.load_model(path, safe_mode=True, compile=False)
            return ir_values(meta["outputs"], _call(net, feed_values(meta["inputs"], inputs)))
        finally:
            if mod is not None:
                forget(mod)

    def _run_saved_model(self, files: DeliveredFiles, inputs: Mapping[str, np.ndarray],
                         ) -> list[tuple[str, np.ndarray]]:
        import tensorflow as tf

        folder = files.saved_model()
        if folder is None:
            raise _bad("use=savedmodel needs the SavedModel files (saved_model.pb, "
                       "variables.index, variables.data-*)", "MISSING_FILE", SAVED_MODEL)
        meta_path = os.path.join(folder, "assets", META_JSON)
        if not os.path.isfile(meta_path):
            raise _bad(f"the SavedModel carries no assets/{META_JSON} (not written by "
                       "backend-tf)", "BAD_MODEL", SAVED_MODEL)
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
        loaded = tf.saved_model.load(folder)
        serving = loaded.signatures["serving_default"]
        feeds = feed_values(meta["inputs"], inputs)
        kwargs = {i["keras"]: tf.constant(v) for i, v in zip(meta["inputs"], feeds, strict=True)}
        out = serving(**kwargs)
        values = [out[f"output_{k}"] for k in range(len(meta["outputs"]))]
        return ir_values(meta["outputs"], values)

    # -- Run, format "ir" ------------------------------------------------------------------
    def _run_ir(self, model: Model, inputs: dict[str, np.ndarray], fetch: list[str],
                ) -> tuple[list[tuple[str, np.ndarray]], str]:
        if model.graph is None:
            raise _bad("format 'ir' needs the graph", "MISSING_FILE", "network")
        graph = model.graph
        self._refuse(graph)
        names = {n.name for n in graph.nodes}
        bad = [f for f in fetch if split_ref(f)[0] not in names]
        if bad:
            raise _bad(f"fetch {bad}: no such IR node", "BAD_FETCH", "fetch")
        kept = self._kept_weights(model)
        weights = _ShapeOnlyWeights(graph) if kept is not None else (model.weights or {})
        gen = self._generate(graph, weights, list(fetch))
        workdir = tempfile.mkdtemp(prefix="ir-", dir=model.workdir or None)
        mod = None
        try:
            if kept is not None:
                gen.weights = kept_layer_weights(kept, graph, gen.weights, workdir)
            code_path = os.path.join(workdir, MODEL_PY)
            with open(code_path, "w", encoding="utf-8") as f:
                f.write(gen.source)
            mod = import_generated(code_path)
            net = build(mod)
            set_weights(net, gen.weights)
            out = _call(net, feed_values(gen.inputs, inputs))
            values = dict(ir_values(gen.outputs, out))
            inputs_by_name = {i["ir"] for i in gen.inputs}
            wanted = [make_ref(*split_ref(f)) for f in fetch] or [o["ir"] for o in gen.outputs]
            result = []
            for f, ref in zip(fetch or wanted, wanted, strict=True):
                if ref in inputs_by_name and ref not in values:
                    result.append((f, np.asarray(inputs[ref])))
                else:
                    result.append((f, values[ref]))
            return result, "ir-kept-weights" if kept is not None else "ir"
        finally:
            if mod is not None:
                forget(mod)
            shutil.rmtree(workdir, ignore_errors=True)

    @staticmethod
    def _kept_weights(model: Model) -> str | None:
        """The model.weights.h5 to use for a format-"ir" Run that carries no IR weights."""
        if model.weights or model.graph is None or not model.graph.tensors:
            return None
        by_name = {os.path.basename(p): p for p in model.files.values()}
        path = model.files.get(WEIGHTS_H5) or by_name.get(WEIGHTS_H5)
        if path is None:
            raise _bad(f"format 'ir' needs the IR weights (tensors), or the {WEIGHTS_H5} this "
                       "service wrote (use_kept)", "MISSING_WEIGHT", "weights")
        return path


def kept_layer_weights(path: str, graph: Graph, want: Mapping[str, list[Any]], workdir: str,
                       ) -> dict[str, list[np.ndarray]]:
    """The arrays of each layer in ``want``, from a ``model.weights.h5`` this service wrote for
    ``graph``. Keras files weights by layer order, not name: the delivered model is rebuilt
    (from shapes only), loads the file, and hands its layers' weights over by name."""
    gen = codegen.generate(graph, _ShapeOnlyWeights(graph))
    gen.weights.clear()
    code_path = os.path.join(workdir, "kept_" + MODEL_PY)
    with open(code_path, "w", encoding="utf-8") as f:
        f.write(gen.source)
    mod = import_generated(code_path)
    try:
        with zero_initialized():
            net = mod.build_model()
        try:
            net.load_weights(path)
        except Exception as e:  # noqa: BLE001 - any mismatch means: not our file for this graph
            raise ConversionError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"the kept {WEIGHTS_H5} does not fit the code generated for this graph",
                [Issue("KEPT_MISSING", "weights", f"{e}; send the IR weights instead")],
                reason="KEPT_MISSING") from e
        have = {layer.name: layer for layer in net.layers}
        out: dict[str, list[np.ndarray]] = {}
        problems = []
        for name, arrays in want.items():
            layer = have.get(name)
            got = layer.get_weights() if layer is not None else None
            if got is None or [g.shape for g in got] != [tuple(np.shape(a)) for a in arrays]:
                problems.append(name)
                continue
            out[name] = got
    finally:
        forget(mod)
    if problems:
        raise ConversionError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"the kept {WEIGHTS_H5} does not hold every layer of this run",
            [Issue("KEPT_MISSING", "weights", f"layers {problems[:5]} are not in the kept "
                   "model (its nodes were pruned or folded); send the IR weights instead")],
            reason="KEPT_MISSING")
    return out


class _ShapeOnlyWeights(Mapping):
    """IR weights as zero arrays of the right shape and dtype that take no memory: enough for
    code generation, which then gets the values from a kept weights file."""

    def __init__(self, graph: Graph):
        self._info = graph.tensors

    def __getitem__(self, name: str) -> np.ndarray:
        t = self._info[name]
        return np.broadcast_to(np.zeros((), dtype=t.dtype), tuple(t.shape))

    def __iter__(self):
        return iter(self._info)

    def __len__(self) -> int:
        return len(self._info)


def saved_model_files(folder: str) -> list[str]:
    """Relative paths of the files of a SavedModel folder."""
    out = []
    for root, _, files in os.walk(folder):
        for name in sorted(files):
            out.append(os.path.relpath(os.path.join(root, name), folder))
    return sorted(out)


def saved_model_place(name: str) -> str:
    """Where a SavedModel file sent under its base name goes in the folder."""
    if name.startswith("variables."):
        return os.path.join("variables", name)
    if name == META_JSON:
        return os.path.join("assets", name)
    return name


class DeliveredFiles:
    """The files of a "keras" / "tensorflow" Run, found by name or role: what FromIR wrote
    (by name: the gateway sends them back as it received them), or a user's ``network`` (a
    .keras file, or a SavedModel folder)."""

    def __init__(self, model: Model):
        self.model = model
        self.by_name = {os.path.basename(p): p for p in model.files.values()}
        self.by_name.update({r: p for r, p in model.files.items() if "/" not in r})

    def keras(self) -> str | None:
        p = self.model.files.get("network")
        if p is not None and p.endswith(".keras") and os.path.isfile(p):
            return p
        p = self.by_name.get(MODEL_KERAS)
        if p is not None:
            return p
        found = [p for p in self.model.files.values() if p.endswith(".keras")]
        return found[0] if len(found) == 1 else None

    def code(self) -> str | None:
        return self.model.files.get("code") or self.by_name.get(MODEL_PY)

    def saved_model(self) -> str | None:
        for role in ("network", SAVED_MODEL):
            whole = self.model.files.get(f"{role}/saved_model.pb")
            if whole is not None and os.path.isfile(os.path.join(
                    os.path.dirname(whole), "variables", "variables.index")):
                return os.path.dirname(whole)   # still in its folder (e.g. the kept files)
            folder = folder_of(self.model, role)
            if folder is not None and os.path.isfile(os.path.join(folder, "saved_model.pb")):
                return folder
        # the files under their base names (a client that flattened the folder)
        pb_path = self.by_name.get("saved_model.pb")
        if pb_path is None:
            return None
        here = os.path.dirname(pb_path)
        if os.path.isfile(os.path.join(here, "variables", "variables.index")):
            return here    # still in its folder (the files this service kept)
        base = os.path.join(self.model.workdir or tempfile.mkdtemp(prefix="nnr-sm-"),
                            SAVED_MODEL)
        for name, path in self.by_name.items():
            if name.startswith("variables.") or name in ("saved_model.pb", "fingerprint.pb",
                                                         META_JSON):
                dst = os.path.join(base, saved_model_place(name))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                if not os.path.lexists(dst):
                    try:
                        os.link(path, dst)
                    except OSError:
                        shutil.copyfile(path, dst)
        return base
