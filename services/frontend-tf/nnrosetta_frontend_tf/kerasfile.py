"""Reading a Keras file safely: what kind it is, its model config (JSON, read without Keras and
without running anything), the layers it declares, and loading it with Keras in safe mode.

Before Keras deserializes anything, the config is scanned: every layer class the importer has
no importer for (and every RNN / Bidirectional / TimeDistributed wrapper around a cell or layer
it cannot convert) is listed at once, and a ``Lambda`` layer (Python code inside the file,
which Keras 2's ``.h5`` loader would unmarshal and run) is refused unless the caller consents
with the option ``allow_unsafe=1``.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from typing import Any

import grpc

from nnrosetta.rpc.errors import Issue

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
# class names of containers whose inner layers are listed in their config
MODEL_CLASSES = {"Functional", "Sequential", "Model"}
# layers that carry Python code
UNSAFE_CLASSES = {"Lambda"}
# layers whose config holds the layer / cell they wrap: the scan checks that one too
WRAPPERS = {"RNN", "Bidirectional", "TimeDistributed"}


@dataclass
class LayerDecl:
    """A layer (or Keras 3 operation) as the file's config declares it."""

    key: str           # registry key: class name, or "ops.<Class>" for Keras 3 operations
    name: str          # layer name, "outer/inner" inside nested models
    module: str = ""
    config: dict = field(default_factory=dict, repr=False)   # its config (wrappers: the inner)


@dataclass
class KerasFile:
    path: str
    kind: str = ""                     # "keras" (zip), "h5", "savedmodel"
    config: dict | None = None         # the model's {"class_name", "config"} dict
    keras_version: str = ""
    layers: list[LayerDecl] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    status: grpc.StatusCode = grpc.StatusCode.OK
    size: int = 0

    def fail(self, code: str, location: str, message: str,
             status: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT) -> KerasFile:
        self.issues.append(Issue(code, location, message))
        if self.status == grpc.StatusCode.OK:
            self.status = status
        return self


def allow_unsafe(options: dict[str, str]) -> bool:
    return str(options.get("allow_unsafe", "")).strip().lower() in ("1", "true", "yes", "on")


def _magic(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read(8)


def read(path: str) -> KerasFile:
    """Identify the file and read its config; problems become issues, never exceptions."""
    kf = KerasFile(path)
    if os.path.isdir(path):
        kf.kind = "savedmodel"
        return _read_savedmodel(kf)
    try:
        kf.size = os.path.getsize(path)
        head = _magic(path)
    except OSError as e:
        return kf.fail("UNREADABLE", "network", f"cannot read the model file: {e}")
    if head.startswith(b"PK"):
        kf.kind = "keras"
        return _read_zip(kf)
    if head == HDF5_MAGIC:
        kf.kind = "h5"
        return _read_h5(kf)
    return kf.fail("NOT_KERAS", "network", "the file is not a Keras model: expected a .keras "
                   "file (a zip archive) or a Keras .h5 (HDF5) file; a TensorFlow SavedModel "
                   "folder or frozen GraphDef .pb is format 'tensorflow'")


def _read_zip(kf: KerasFile) -> KerasFile:
    try:
        with zipfile.ZipFile(kf.path) as z:
            names = set(z.namelist())
            if "config.json" not in names:
                return kf.fail("NOT_KERAS", "network", "the zip archive has no config.json: "
                               "it is not a .keras model file")
            bad = z.testzip()
            if bad is not None:
                return kf.fail("TRUNCATED", "network", f"the .keras archive is damaged (member "
                               f"{bad!r} fails its checksum); upload the file again",
                               grpc.StatusCode.DATA_LOSS)
            raw = z.read("config.json")
            meta = z.read("metadata.json") if "metadata.json" in names else b"{}"
            if "model.weights.h5" not in names:
                kf.fail("MISSING_WEIGHTS", "network", "the .keras archive has no "
                        "model.weights.h5")
    except zipfile.BadZipFile as e:
        return kf.fail("TRUNCATED", "network", f"the .keras file is not a complete zip archive "
                       f"({e}); it may be truncated: upload it again",
                       grpc.StatusCode.DATA_LOSS)
    except (OSError, EOFError, zipfile.LargeZipFile) as e:
        return kf.fail("TRUNCATED", "network", f"the .keras archive cannot be read ({e}); it "
                       "may be truncated: upload it again", grpc.StatusCode.DATA_LOSS)
    try:
        kf.config = json.loads(raw)
        m = json.loads(meta)
        kf.keras_version = str(m.get("keras_version", "")) if isinstance(m, dict) else ""
    except ValueError as e:
        return kf.fail("BAD_CONFIG", "config.json", f"the model config is not valid JSON: {e}")
    return _scan(kf)


def _read_h5(kf: KerasFile) -> KerasFile:
    try:
        import h5py
    except ImportError:  # pragma: no cover - both service venvs have h5py
        return kf.fail("UNSUPPORTED_FORMAT", "network", "h5py is not installed here")
    try:
        with h5py.File(kf.path, "r") as f:
            cfg = f.attrs.get("model_config")
            ver = f.attrs.get("keras_version")
            has_weights = "model_weights" in f or "layer_names" in f.attrs
    except (OSError, ValueError) as e:
        msg = str(e)
        if "truncated" in msg.lower() or "eof" in msg.lower() or "signature" in msg.lower():
            return kf.fail("TRUNCATED", "network", f"the .h5 file is truncated or damaged "
                           f"({msg}); upload it again", grpc.StatusCode.DATA_LOSS)
        return kf.fail("BAD_H5", "network", f"the .h5 file cannot be read: {msg}")
    if cfg is None:
        return kf.fail("NOT_KERAS", "network", "the HDF5 file has no 'model_config' attribute: "
                       "it holds weights only (save_weights) or is not a Keras model; save the "
                       "whole model with model.save('model.keras' or 'model.h5')")
    if isinstance(cfg, bytes):
        cfg = cfg.decode("utf-8", "replace")
    if isinstance(ver, bytes):
        ver = ver.decode("utf-8", "replace")
    kf.keras_version = str(ver or "")
    try:
        kf.config = json.loads(cfg)
    except ValueError as e:
        return kf.fail("BAD_CONFIG", "model_config", f"the model config is not valid JSON: {e}")
    if not has_weights:
        kf.fail("MISSING_WEIGHTS", "network", "the .h5 file holds no weights (saved with "
                "include_optimizer only?)")
    return _scan(kf)


def _read_savedmodel(kf: KerasFile) -> KerasFile:
    meta = os.path.join(kf.path, "keras_metadata.pb")
    if not os.path.exists(os.path.join(kf.path, "saved_model.pb")):
        return kf.fail("NOT_SAVEDMODEL", "network", "the folder has no saved_model.pb: it is "
                       "not a TensorFlow SavedModel")
    if not os.path.exists(meta):
        return kf.fail("NOT_KERAS", "network", "the SavedModel has no keras_metadata.pb (it "
                       "was not saved by Keras 2): convert it as format 'tensorflow'")
    try:
        with open(meta, "rb") as f:
            blob = f.read()
    except OSError as e:
        return kf.fail("UNREADABLE", "keras_metadata.pb", f"cannot read it: {e}")
    names: dict[str, str] = {}            # node path -> layer name
    for path, js in _metadata_json(blob):
        cls = js.get("class_name")
        if not isinstance(cls, str):
            continue
        if not kf.keras_version and js.get("keras_version"):
            kf.keras_version = str(js["keras_version"])
        parts = path.split(".")
        # the model's layers (and nested models' layers): root.layer-N[.layer-M...];
        # sub-objects such as an RNN's cell are part of their layer
        if parts[0] != "root" or len(parts) < 2 or not all(
                p.startswith(("layer-", "layer_with_weights-")) for p in parts[1:]):
            continue
        name = str(js.get("name", ""))
        names[path] = name
        if cls in MODEL_CLASSES:
            continue
        outer = [names.get(".".join(parts[:i]), "") for i in range(2, len(parts))]
        cfg = js.get("config")
        kf.layers.append(LayerDecl(cls, "/".join([*(o for o in outer if o), name]), "",
                                   cfg if isinstance(cfg, dict) else {}))
    kf.config = {"class_name": "SavedModel", "config": {}}
    return kf


def _metadata_json(blob: bytes) -> list[tuple[str, dict]]:
    """(node path, metadata) of keras_metadata.pb's nodes (SavedMetadata: repeated
    SavedObject nodes = 1, with node_path = 3 and the JSON metadata = 5), read with a
    minimal protobuf wire decoder so that no Keras protobuf module is needed."""
    out: list[tuple[str, dict]] = []
    for fnum, val in _fields(blob):
        if fnum != 1 or not isinstance(val, bytes):
            continue
        fields = dict(_fields(val))
        path, meta = fields.get(3, b""), fields.get(5, b"")
        if not isinstance(meta, bytes) or meta[:1] != b"{":
            continue
        try:
            js = json.loads(meta)
        except ValueError:
            continue
        if isinstance(js, dict) and isinstance(path, bytes):
            out.append((path.decode("utf-8", "replace"), js))
    return out


def _fields(buf: bytes):
    i, n = 0, len(buf)
    try:
        while i < n:
            key, i = _varint(buf, i)
            fnum, wt = key >> 3, key & 7
            if wt == 0:
                v, i = _varint(buf, i)
            elif wt == 1:
                v, i = buf[i:i + 8], i + 8
            elif wt == 2:
                ln, i = _varint(buf, i)
                v, i = buf[i:i + ln], i + ln
            elif wt == 5:
                v, i = buf[i:i + 4], i + 4
            else:
                return
            yield fnum, v
    except IndexError:
        return


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


# -- the config scan -------------------------------------------------------------------------

def _scan(kf: KerasFile) -> KerasFile:
    cfg = kf.config
    if not isinstance(cfg, dict) or "class_name" not in cfg:
        return kf.fail("BAD_CONFIG", "config", "the model config has no class_name")
    walk_config(cfg, "", kf.layers, top=True)
    return kf


def _key(item: dict) -> str:
    cls = str(item.get("class_name", "?"))
    module = str(item.get("module") or "")
    if module.startswith("keras.src.ops") or module.startswith("keras.ops"):
        return f"ops.{cls}"
    if cls == "TFOpLambda":
        fn = (item.get("config") or {}).get("function")
        return f"TFOpLambda({fn})" if isinstance(fn, str) else cls
    return cls


def walk_config(item: dict, prefix: str, out: list[LayerDecl], top: bool = False) -> None:
    cls = item.get("class_name")
    cfg = item.get("config") if isinstance(item.get("config"), dict) else {}
    layers = cfg.get("layers") if isinstance(cfg, dict) else None
    name = str(cfg.get("name") or item.get("name") or "")
    if cls in MODEL_CLASSES and isinstance(layers, list):
        inner = "" if top else f"{prefix}{name}/"
        for sub in layers:
            if isinstance(sub, dict):
                walk_config(sub, inner, out)
        return
    if cls in MODEL_CLASSES and not top and not isinstance(layers, list):
        out.append(LayerDecl(str(cls), prefix + name, str(item.get("module") or "")))
        return
    if top and cls not in MODEL_CLASSES:
        out.append(LayerDecl(_key(item), name or "model", str(item.get("module") or ""), cfg))
        return
    out.append(LayerDecl(_key(item), prefix + name, str(item.get("module") or ""), cfg))


def preflight(kf: KerasFile, options: dict[str, str], supported: set[str]) -> list[Issue]:
    """Every layer the importer cannot convert (all at once), and the unsafe ones."""
    issues: list[Issue] = []
    unsafe_ok = allow_unsafe(options)
    for d in kf.layers:
        if d.key in UNSAFE_CLASSES:
            if not unsafe_ok:
                issues.append(Issue("UNSAFE_LAYER", d.name, f"{d.key} layer {d.name!r} holds "
                                    "Python code, which nnrosetta does not load (Keras "
                                    "safe_mode); rebuild the model without Lambda layers, or "
                                    "pass the option allow_unsafe=1 if you trust the file "
                                    "(it can then be run, but a Lambda still cannot be "
                                    "converted)"))
            else:
                issues.append(Issue("UNSUPPORTED_LAYER", d.name, f"{d.key} layer {d.name!r} "
                                    "runs arbitrary Python code, which cannot be converted; "
                                    "replace it with built-in Keras layers"))
            continue
        if d.key not in supported:
            issues.append(Issue("UNSUPPORTED_LAYER", d.name, _unsupported_message(d)))
        elif d.key in WRAPPERS:
            from nnrosetta_frontend_tf.layers.wrappers import config_problem

            why = config_problem(d.key, d.config)
            if why:
                issues.append(Issue("UNSUPPORTED_LAYER", d.name, f"{d.key} layer {d.name!r} "
                                    f"wraps {why}"))
    return issues


def _unsupported_message(d: LayerDecl) -> str:
    custom = d.module and not (d.module.startswith("keras") or d.module.startswith("tf_keras"))
    what = "custom layer" if custom else "layer"
    if d.key.startswith("ops."):
        return (f"Keras operation {d.key[4:]} ({d.name!r}) in the functional graph is not "
                "supported by the Keras frontend; use the equivalent Keras layer, or export "
                "the model (model.export) and convert the SavedModel as format 'tensorflow'")
    return (f"{what} {d.key} ({d.name!r}) is not supported by the Keras frontend (see "
            "docs/keras-layers.md); replace it with supported layers, or export the model "
            "(model.export) and convert the SavedModel as format 'tensorflow'")


def status_of(issues: list[Issue]) -> grpc.StatusCode:
    if not issues:
        return grpc.StatusCode.OK
    codes = {i.code for i in issues}
    if "TRUNCATED" in codes:
        return grpc.StatusCode.DATA_LOSS
    if codes <= {"UNSUPPORTED_LAYER", "UNSUPPORTED_ATTRIBUTE", "UNSUPPORTED_ACTIVATION"}:
        return grpc.StatusCode.UNIMPLEMENTED
    if "UNSUPPORTED_LAYER" in codes and "UNSAFE_LAYER" not in codes:
        return grpc.StatusCode.UNIMPLEMENTED
    return grpc.StatusCode.INVALID_ARGUMENT


def load(kf: KerasFile, options: dict[str, str], runnable: bool = True,
         ) -> tuple[Any, list[Issue]]:
    """Load with Keras (safe mode unless allow_unsafe=1); (model, issues). ``runnable``
    False: for conversion only (weights read, variables left uninitialized where Keras
    allows: much faster)."""
    from nnrosetta_frontend_tf import compat

    safe = not allow_unsafe(options)
    try:
        if runnable:
            model = compat.load_model(kf.path, safe_mode=safe)
        else:
            try:
                model = compat.load_model_values(kf.path, safe_mode=safe)
            except Exception:  # noqa: BLE001 - a layer that needs real variables: load fully
                model = compat.load_model(kf.path, safe_mode=safe)
    except Exception as e:  # noqa: BLE001 - Keras raises many kinds; each becomes an issue
        msg = f"{type(e).__name__}: {e}".strip()
        if len(msg) > 1500:
            msg = msg[:1500] + "..."
        low = msg.lower()
        if "truncat" in low or "eof" in low or "unable to open" in low or "crc" in low:
            return None, [Issue("TRUNCATED", "network", f"Keras could not read the file "
                                f"({msg}); it may be truncated: upload it again")]
        hint = ""
        if kf.keras_version.startswith("2.") and not compat.is_keras2():
            hint = (f" (the file was saved by Keras {kf.keras_version}; the frontend-tf-legacy "
                    "service runs Keras 2)")
        elif kf.keras_version.startswith("3") and compat.is_keras2():
            hint = (f" (the file was saved by Keras {kf.keras_version}; the frontend-tf service "
                    "runs Keras 3)")
        return None, [Issue("LOAD_FAILED", "network", f"Keras {compat.keras_version()} could "
                            f"not load the model: {msg}{hint}")]
    return model, []
