"""The frontend-tf Converter: Check / ToIR / Run for Keras files (``.keras``, ``.h5``; under
Keras 2 also Keras-2 SavedModel folders) through the Keras layer importer, and for TensorFlow
SavedModels / frozen GraphDefs (format ``tensorflow``) through the graph importer
(``graph/``). The same class runs as frontend-tf (TensorFlow 2.21, Keras 3) and as
frontend-tf-legacy (TensorFlow 2.15, Keras 2)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import numpy as np

from nnrosetta.rpc.converter import Converter, Model, Progress, folder_of
from nnrosetta.rpc.errors import ConversionError, Issue
from nnrosetta_frontend_tf import kerasfile
from nnrosetta_frontend_tf.conversion import Conversion

FORMATS = ("keras", "tensorflow")
# Keras builds and loads models through process-wide state: one at a time
_KERAS_LOCK = threading.RLock()


def _fail(issues: list[Issue], status: grpc.StatusCode, message: str) -> ConversionError:
    return ConversionError(status, message, issues,
                           reason=issues[0].code if issues else "CONVERSION_FAILED")


def _bad(message: str, code: str, location: str = "") -> ConversionError:
    return ConversionError(grpc.StatusCode.INVALID_ARGUMENT, message,
                           [Issue(code, location, message)], reason=code)


def _graph_module():
    """The TF graph importer (``graph/``), imported on first use."""
    try:
        from nnrosetta_frontend_tf import graph
    except ImportError as e:
        raise ConversionError(grpc.StatusCode.UNIMPLEMENTED, "TensorFlow graphs cannot be "
                              f"converted by this build ({e})", reason="UNSUPPORTED_FORMAT") \
            from e
    if not hasattr(graph, "convert_graph"):
        raise ConversionError(grpc.StatusCode.UNIMPLEMENTED, "TensorFlow graphs cannot be "
                              "converted by this build (no graph importer)",
                              reason="UNSUPPORTED_FORMAT")
    return graph


def keras_layers() -> list[str]:
    """Keras layer classes with an importer whose IR ops all exist in this IR registry."""
    from nnrosetta.ir import registry
    from nnrosetta_frontend_tf.layers import all_layers

    have = registry.all_ops()
    return sorted(k for k, imp in all_layers().items() if all(o in have for o in imp.ir_ops))


def graph_ops() -> list[str]:
    """TF op types of the graph importer, or [] when it is not available."""
    try:
        from nnrosetta_frontend_tf import graph

        return sorted(graph.supported_ops())
    except Exception:  # noqa: BLE001 - the graph importer is optional for the layer table
        return []


def supported_ops() -> list[str]:
    return keras_layers() + [f"tf:{op}" for op in graph_ops()]


def _network(model: Model) -> str:
    """The local path of the model: a file, or a folder (SavedModel)."""
    p = model.files.get("network")
    if p is not None:
        return p
    d = folder_of(model, "network")
    if d is not None:
        return d
    raise _bad("the model has no 'network' file (a .keras / .h5 file, a SavedModel folder "
               "as roles 'network/<path>', or a frozen .pb)", "MISSING_FILE", "network")


class _Opened:
    """A Keras file read, checked and loaded; ``runs``: what Run reads of it, by the
    ``input_shape`` option ((model, walk, conversion))."""

    def __init__(self, kf: kerasfile.KerasFile, model: Any = None):
        self.kf = kf
        self.model = model
        self.runs: dict[str, tuple] = {}


def file_digest(path: str) -> str | None:
    """SHA-256 of the file's bytes (of a folder: of its files' relative paths and bytes);
    None when it cannot be read."""
    h = hashlib.sha256()
    try:
        if os.path.isdir(path):
            for root, dirs, names in os.walk(path):
                dirs.sort()
                for n in sorted(names):
                    p = os.path.join(root, n)
                    h.update(os.path.relpath(p, path).encode() + b"\0")
                    with open(p, "rb") as f:
                        h.update(hashlib.file_digest(f, "sha256").digest())
        else:
            with open(path, "rb") as f:
                return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None
    return h.hexdigest()


# file digests computed beside a Keras load (ToIR)
_HASHING = ThreadPoolExecutor(2, thread_name_prefix="digest")


class ModelCache:
    """The last Keras models loaded (LRU), by key (the file's content digest and the load
    options): a verified conversion's Run finds the model its ToIR loaded instead of loading
    the file again, and a Run for the divergence locator the one the first Run used.
    Thread-safe; the models themselves are used under the Keras lock. One by default (as
    much memory as before: the last model Run used stayed loaded); more
    (``NNROSETTA_TF_MODEL_CACHE``) lets concurrent conversions of different files each find
    theirs, for one more model's memory each."""

    def __init__(self, size: int = 1):
        self.size = max(1, size)
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple, _Opened] = OrderedDict()

    def get(self, key: tuple | None) -> _Opened | None:
        if key is None:
            return None
        with self._lock:
            e = self._entries.get(key)
            if e is not None:
                self._entries.move_to_end(key)
            return e

    def put(self, key: tuple | None, entry: _Opened) -> None:
        if key is None:
            return
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def make_room(self) -> None:
        """Before a load that will be put here: let the oldest go now, so that the process
        never holds more than ``size`` models (the one loading included)."""
        with self._lock:
            while self._entries and len(self._entries) >= self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class TFConverter(Converter):
    def __init__(self, name: str = "frontend-tf", cache_size: int | None = None):
        self.name = name
        size = cache_size if cache_size is not None else \
            int(os.environ.get("NNROSETTA_TF_MODEL_CACHE", "1"))
        self.models = ModelCache(size)

    # -- service ---------------------------------------------------------------------------
    def load(self) -> None:
        import tensorflow  # noqa: F401 - seconds: once, before the service says SERVING

        from nnrosetta.ir import registry
        from nnrosetta_frontend_tf import compat
        from nnrosetta_frontend_tf.layers import all_layers

        compat.keras()
        all_layers()
        registry.all_ops()
        graph_ops()

    def describe(self) -> dict[str, Any]:
        import google.protobuf
        import tensorflow as tf

        from nnrosetta_frontend_tf import compat

        try:
            import h5py

            h5 = h5py.__version__
        except ImportError:  # pragma: no cover
            h5 = ""
        kv = compat.keras_version()
        return {
            "framework": "tensorflow",
            "framework_version": tf.__version__,
            "reads": list(FORMATS),
            "writes": ["ir"],
            "ops_supported": supported_ops(),
            "versions": {"tensorflow": tf.__version__, "keras": kv, "numpy": np.__version__,
                         "protobuf": google.protobuf.__version__, "h5py": h5},
            "runtime": f"TensorFlow {tf.__version__} (Keras {kv})",
        }

    # -- the Keras path --------------------------------------------------------------------
    def _keras_or_graph(self, model: Model) -> tuple[str, str]:
        """("keras" | "tensorflow", path): a Keras-2 SavedModel sent as format keras goes to
        the graph importer under Keras 3 (which cannot load it)."""
        fmt = model.format
        if fmt not in FORMATS:
            raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, f"{self.name} reads formats "
                                  f"{list(FORMATS)}, not {fmt!r}",
                                  [Issue("UNSUPPORTED_FORMAT", "format", f"format {fmt!r}")],
                                  reason="UNSUPPORTED_FORMAT")
        path = _network(model)
        if fmt == "keras" and os.path.isdir(path):
            from nnrosetta_frontend_tf import compat

            if not compat.is_keras2() or not os.path.exists(
                    os.path.join(path, "keras_metadata.pb")):
                return "tensorflow", path
        return fmt, path

    def _open(self, path: str, options: dict[str, str], for_run: bool = False) -> _Opened:
        from nnrosetta_frontend_tf.layers import all_layers

        kf = kerasfile.read(path)
        if kf.issues:
            raise _fail(kf.issues, kf.status, "the Keras model cannot be read")
        issues = kerasfile.preflight(kf, options, set(all_layers()))
        if for_run:   # a model with unsupported layers can still run, an unsafe one cannot
            issues = [i for i in issues if i.code == "UNSAFE_LAYER"]
        if issues:
            raise _fail(issues, kerasfile.status_of(issues), self._summary(issues))
        with _KERAS_LOCK:
            m, issues = kerasfile.load(kf, options, runnable=for_run)
        if issues:
            raise _fail(issues, kerasfile.status_of(issues), "Keras could not load the model")
        return _Opened(kf, m)

    @staticmethod
    def _summary(issues: list[Issue]) -> str:
        n = sum(i.code == "UNSUPPORTED_LAYER" for i in issues)
        u = sum(i.code == "UNSAFE_LAYER" for i in issues)
        parts = []
        if n:
            parts.append(f"{n} unsupported layer{'s' * (n != 1)}")
        if u:
            parts.append(f"{u} unsafe layer{'s' * (u != 1)} (Lambda)")
        rest = len(issues) - n - u
        if rest:
            parts.append(f"{rest} other issue{'s' * (rest != 1)}")
        return "the Keras model cannot be converted: " + ", ".join(parts)

    def _convert_keras(self, path: str, options: dict[str, str]) -> tuple[_Opened, Conversion]:
        from nnrosetta_frontend_tf.keras_import import convert_keras

        opened = self._open(path, options)
        with _KERAS_LOCK:
            conv = convert_keras(opened.model, options, {
                "keras_saved_by": opened.kf.keras_version,
                "keras_file": opened.kf.kind})
        return opened, conv

    # -- Converter -------------------------------------------------------------------------
    def check(self, model: Model):
        fmt, path = self._keras_or_graph(model)
        try:
            if fmt == "tensorflow":
                conv = _graph_module().convert_graph(path, dict(model.options))
            else:
                _, conv = self._convert_keras(path, dict(model.options))
        except ConversionError as e:
            if e.issues:
                return e.issues, None
            raise
        return conv.issues, (conv.graph if not conv.issues else None)

    def to_ir(self, model: Model) -> Iterator[Any]:
        fmt, path = self._keras_or_graph(model)
        options = dict(model.options)
        label = model.names.get("network") or os.path.basename(path)
        if fmt == "tensorflow":
            yield Progress("parse", f"reading TensorFlow graph {label}", -1.0)
            conv = _graph_module().convert_graph(path, options)
            what = "TensorFlow graph"
        else:
            # the file's digest (the model cache's key) for a Run to come, hashed beside the
            # load instead of after the weights (hashlib lets the load run meanwhile)
            digest = _HASHING.submit(file_digest, path) if model.keep_as else None
            # a new model: the oldest one kept goes first (the default: the last one), so
            # that no more than the cache's size are held while this one loads
            self.models.make_room()
            opened = self._open(path, options)
            kf = opened.kf
            yield Progress("parse", f"loaded {label} ({kf.kind}, saved by Keras "
                           f"{kf.keras_version or '?'}): {len(kf.layers)} layers", 1.0)
            from nnrosetta_frontend_tf.keras_import import walk_and_convert

            with _KERAS_LOCK:
                walked, conv = walk_and_convert(opened.model, options, {
                    "keras_saved_by": kf.keras_version, "keras_file": kf.kind})
            what = "Keras model"
        for note in conv.notes:
            yield Progress("parse", note, -1.0)
        if conv.issues or conv.graph is None:
            issues = conv.issues or [Issue("CONVERSION_FAILED", "network", "no graph")]
            raise _fail(issues, conv.status if conv.status != grpc.StatusCode.OK else
                        grpc.StatusCode.INVALID_ARGUMENT,
                        f"the {what} cannot be converted ({len(issues)} issues)")
        yield Progress("convert", f"{len(conv.graph.nodes)} IR nodes, "
                       f"{len(conv.weights)} weights", 1.0)
        yield conv.graph
        total = sum(int(np.prod(t.shape)) for t in conv.weights.values()) or 1
        done, last = 0, -1.0
        for name, arr in conv.iter_weights():
            yield name, arr
            done += arr.size
            frac = done / total
            if frac - last >= 0.05 or frac >= 1.0:
                last = frac
                yield Progress("weights", f"{name} {list(arr.shape)}", frac)
        if fmt != "tensorflow" and model.keep_as:
            # The caller keeps the file for a Run (verification): that Run then finds this
            # model loaded (ToIR itself always loads the file it is sent), and walked and
            # converted as Run would (only the input_shape option changes that; the graph is
            # all Run reads of the conversion, the weights are not kept twice).
            if walked is not None:
                opened.runs.setdefault(options.get("input_shape", ""), (
                    opened.model, walked, dataclasses.replace(conv, weights={})))
            self.models.put(self._key(path, options, digest.result()), opened)

    def run(self, model: Model, inputs: dict[str, np.ndarray], fetch: list[str]):
        fmt, path = self._keras_or_graph(model)
        options = dict(model.options)
        if fmt == "tensorflow":
            import tensorflow as tf

            out = _graph_module().run_graph(path, options, inputs, list(fetch))
            if isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], dict):
                return out
            return out, {"runtime": f"TensorFlow {tf.__version__}", "device": "cpu"}
        from nnrosetta_frontend_tf.run import run_keras

        m, w, conv = self._runnable(path, options)
        with _KERAS_LOCK:
            return run_keras(m, w, conv.graph, inputs, list(fetch))

    @staticmethod
    def _key(path: str, options: dict[str, str], digest: str | None = None) -> tuple | None:
        """The model cache's key: what the file holds (its digest, hashed here unless given)
        and how it is loaded."""
        if digest is None:
            digest = file_digest(path)
        return None if digest is None else (digest, kerasfile.allow_unsafe(options))

    def _runnable(self, path: str, options: dict[str, str]):
        """(Keras model, walk, import) for Run: the model ToIR (or the last Run) loaded from
        the same bytes when there is one, made callable; otherwise the file loaded fully."""
        from nnrosetta_frontend_tf import compat
        from nnrosetta_frontend_tf.keras_import import convert_walk
        from nnrosetta_frontend_tf.walk import WalkError, walk

        key = self._key(path, options)
        opened = self.models.get(key)
        if opened is None:
            if key is not None:
                self.models.make_room()
            opened = self._open(path, options, for_run=True)
            self.models.put(key, opened)
        shapes = options.get("input_shape", "")
        with _KERAS_LOCK:
            compat.make_runnable(opened.model)
            entry = opened.runs.get(shapes)
            if entry is not None:
                return entry
            try:
                w = walk(opened.model)
            except WalkError as e:
                raise _bad(str(e), "BAD_GRAPH", "model") from e
            conv = convert_walk(w, options)
            if conv.graph is None:
                raise _fail(conv.issues, conv.status,
                            "the Keras model's inputs cannot be read")
            bad_inputs = [i for i in conv.issues
                          if i.code in ("MISSING_INPUT_SHAPE", "BAD_OPTION")]
            if bad_inputs:
                raise _fail(bad_inputs, grpc.StatusCode.INVALID_ARGUMENT, "bad input shapes")
            entry = (opened.model, w, conv)
            opened.runs[shapes] = entry
            return entry
