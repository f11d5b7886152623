"""Random-weight keras.applications models, saved in the formats the TF frontends read.

``build(name)`` makes ResNet50, InceptionV3, MobileNetV2, VGG16 or DenseNet121 with
``weights=None, classifier_activation=None`` (logits out; 224x224 inputs, 299x299 for
InceptionV3, or ``input_shape=(H, W, 3)`` for a smaller test size) and overwrites every weight
from a seeded numpy generator, so the same name, shape and seed give the same numbers in
Keras 3 (this interpreter) and in Keras 2.15 (the legacy venv). Keras' default init (zero
biases, BatchNorm mean 0 / var 1 / gamma 1 / beta 0) makes deep outputs vanish or exposes
nothing of BatchNorm; here the scales keep activations of order one:

* convolution and Dense kernels N(0, sqrt(gain / fan_in)), gain 2 (He) except 1 for a Dense
  with a linear activation (the logits) and for ResNet50's convolutions (with He init every
  residual block doubles the variance: logits ~1e4); depthwise kernels with fan_in = kh * kw;
* biases and BatchNorm beta N(0, 0.1), BatchNorm moving mean N(0, 0.1), moving variance and
  gamma U(0.5, 1.5).

Saved files are cached under a folder the caller gives (tests: a pytest cache / tmp dir; else
$NNROSETTA_KERAS_ZOO_CACHE or /tmp/nnrosetta-keras-zoo), in a sub-folder keyed by model,
input size, seed and a hash of this file:

* Keras 3, this process: ``keras`` (``.keras`` zip), ``h5`` (Keras-3 HDF5), ``savedmodel``
  (``model.export()``: a plain TF SavedModel, no Keras metadata);
* Keras 2.15 (``.venvs/frontend-tf-legacy``, a subprocess running this module):
  ``legacy_h5`` (Keras-2 HDF5) and ``legacy_savedmodel`` (Keras-2 SavedModel, with
  ``keras_metadata.pb``).

    python -m tests.keras_zoo.models all --folder /tmp/kz            # every model, every format
    python -m tests.keras_zoo.models resnet50 --formats keras --input-shape 64,64,3

Importing this module imports neither TensorFlow nor Keras (the legacy worker runs it under
numpy 1.26 / Keras 2.15).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CACHE = "/tmp/nnrosetta-keras-zoo"
LEGACY_PYTHON = ROOT / ".venvs" / "frontend-tf-legacy" / "bin" / "python"


@dataclass(frozen=True)
class Spec:
    app: str  # keras.applications function name
    size: int  # default square input size
    min_size: int  # the smallest input keras.applications accepts
    gain: float = 2.0  # kernel gain (He: 2) of the convolutions


MODELS: dict[str, Spec] = {
    "resnet50": Spec("ResNet50", 224, 32, gain=1.0),
    "inceptionv3": Spec("InceptionV3", 299, 75),
    "mobilenetv2": Spec("MobileNetV2", 224, 32),
    "vgg16": Spec("VGG16", 224, 32),
    "densenet121": Spec("DenseNet121", 224, 32),
}
KERAS3_FORMATS = ("keras", "h5", "savedmodel")
LEGACY_FORMATS = ("legacy_h5", "legacy_savedmodel")
FORMATS = KERAS3_FORMATS + LEGACY_FORMATS
_FILE = {"keras": "{}.keras", "h5": "{}.h5", "savedmodel": "{}_savedmodel",
         "legacy_h5": "{}.h5", "legacy_savedmodel": "{}_savedmodel"}


def seed_of(name: str) -> int:
    return zlib.crc32(name.encode())


def shape_of(name: str, input_shape: tuple[int, ...] | None = None) -> tuple[int, int, int]:
    """The (H, W, C) input shape of a model: the default or ``input_shape`` (checked)."""
    spec = MODELS[name]
    if input_shape is None:
        return (spec.size, spec.size, 3)
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != 3 or shape[2] != 3 or min(shape[:2]) < spec.min_size:
        raise ValueError(f"{name}: input_shape must be (H, W, 3) with H, W >= "
                         f"{spec.min_size}, got {input_shape}")
    return shape  # type: ignore[return-value]


# --------------------------------------------------------------------------- build


def _keras():
    import keras  # Keras 3 here; Keras 2.15 (tf.keras) in the legacy venv

    return keras


def build(name: str, input_shape: tuple[int, ...] | None = None, seed: int | None = None):
    """A keras.applications model with seeded random weights (logits output)."""
    if name not in MODELS:
        raise KeyError(f"unknown keras zoo model {name!r}; known: {', '.join(MODELS)}")
    keras = _keras()
    fn = getattr(keras.applications, MODELS[name].app)
    kwargs = {"weights": None, "classifier_activation": None,
              "input_shape": shape_of(name, input_shape)}
    model = fn(**kwargs)
    randomize(model, seed_of(name) if seed is None else seed, MODELS[name].gain)
    return model


def _role(weight) -> str:
    """'kernel', 'bias', 'gamma', ... from a Keras 2 ('conv/kernel:0') or 3 ('kernel') name."""
    return str(weight.name).split("/")[-1].split(":")[0]


def randomize(model, seed: int, gain: float = 2.0) -> None:
    """Overwrite every weight of ``model`` (see the module docstring), layer by layer in
    ``model.layers`` order from one generator: the same in Keras 2 and Keras 3."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        weights = layer.weights
        if not weights:
            continue
        act = getattr(getattr(layer, "activation", None), "__name__", "")
        # Keras 3 names a DepthwiseConv2D's weight 'kernel', Keras 2 'depthwise_kernel'
        depthwise = type(layer).__name__ == "DepthwiseConv2D"
        vals = []
        for w, old in zip(weights, layer.get_weights(), strict=True):
            role, shape = _role(w), tuple(int(d) for d in old.shape)
            if role == "depthwise_kernel" or (role == "kernel" and depthwise):
                v = rng.normal(0.0, np.sqrt(gain / (shape[0] * shape[1])), shape)
            elif role == "kernel":
                g = 1.0 if len(shape) == 2 and act == "linear" else \
                    gain if len(shape) > 2 else 2.0
                v = rng.normal(0.0, np.sqrt(g / int(np.prod(shape[:-1]))), shape)
            elif role in ("bias", "beta", "moving_mean"):
                v = rng.normal(0.0, 0.1, shape)
            elif role in ("gamma", "moving_variance"):
                v = rng.uniform(0.5, 1.5, shape)
            else:
                raise ValueError(f"{layer.name}: no random init for weight {w.name!r}")
            vals.append(v.astype(old.dtype))
        layer.set_weights(vals)


def sample_input(name: str, input_shape: tuple[int, ...] | None = None, batch: int = 1,
                 seed: int = 0) -> np.ndarray:
    """A seeded N(0, 1) float32 input, NHWC (Keras' layout)."""
    h, w, c = shape_of(name, input_shape)
    return np.random.default_rng(seed).standard_normal((batch, h, w, c)).astype(np.float32)


# --------------------------------------------------------------------------- save


def save(model, path: str | os.PathLike, fmt: str) -> Path:
    """Write ``model`` as ``fmt`` (a Keras 3 format here, a legacy_* one under Keras 2)."""
    path = Path(path)
    if fmt in ("keras", "h5", "legacy_h5"):
        model.save(str(path))
    elif fmt == "savedmodel":
        model.export(str(path), verbose=False)
    elif fmt == "legacy_savedmodel":
        model.save(str(path), save_format="tf")
    else:
        raise ValueError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    return path


def _source_hash() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:10]


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """``cache_dir``, else $NNROSETTA_KERAS_ZOO_CACHE, else /tmp/nnrosetta-keras-zoo."""
    return Path(cache_dir or os.environ.get("NNROSETTA_KERAS_ZOO_CACHE") or DEFAULT_CACHE)


def folder_of(name: str, cache_dir: str | os.PathLike | None,
              input_shape: tuple[int, ...] | None = None, seed: int | None = None) -> Path:
    h, w, _ = shape_of(name, input_shape)
    s = seed_of(name) if seed is None else seed
    return cache_root(cache_dir) / f"{name}-{h}x{w}-s{s}-{_source_hash()}"


def path_of(name: str, fmt: str, cache_dir: str | os.PathLike | None,
            input_shape: tuple[int, ...] | None = None, seed: int | None = None) -> Path:
    sub = "keras2" if fmt in LEGACY_FORMATS else "keras3"
    return folder_of(name, cache_dir, input_shape, seed) / sub / _FILE[fmt].format(name)


def _publish(tmp: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.rename(final)
    except OSError:  # another process finished first
        if not final.exists():
            raise
        shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)


def ensure(name: str, fmt: str, cache_dir: str | os.PathLike | None = None,
           input_shape: tuple[int, ...] | None = None, seed: int | None = None,
           model=None) -> Path:
    """The cached file (or SavedModel folder) of ``name`` in ``fmt``, built if missing.

    Keras 3 formats are built in this process (``model``: an already built one to save);
    legacy_* ones by the Keras 2.15 venv in a subprocess (see ``ensure_legacy``)."""
    if fmt in LEGACY_FORMATS:
        return ensure_legacy(name, fmt, cache_dir, input_shape, seed)
    final = path_of(name, fmt, cache_dir, input_shape, seed)
    if final.exists():
        return final
    if model is None:
        model = build(name, input_shape, seed)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp{final.suffix}")
    final.parent.mkdir(parents=True, exist_ok=True)
    save(model, tmp, fmt)
    _publish(tmp, final)
    return final


def ensure_legacy(name: str, fmt: str, cache_dir: str | os.PathLike | None = None,
                  input_shape: tuple[int, ...] | None = None, seed: int | None = None,
                  python: str | os.PathLike = LEGACY_PYTHON, timeout: float = 900) -> Path:
    """A Keras-2 ``.h5`` (``legacy_h5``) or Keras-2 SavedModel (``legacy_savedmodel``),
    written by TensorFlow 2.15 / Keras 2.15 in ``python`` (a subprocess), with the same
    seeded weights as ``build``. Raises FileNotFoundError when that venv is missing."""
    if fmt not in LEGACY_FORMATS:
        raise ValueError(f"not a legacy format: {fmt!r}")
    final = path_of(name, fmt, cache_dir, input_shape, seed)
    if final.exists():
        return final
    if not Path(python).is_file():
        raise FileNotFoundError(f"{python} not found: build .venvs/frontend-tf-legacy first")
    h, w, c = shape_of(name, input_shape)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.tmp{final.suffix}")
    final.parent.mkdir(parents=True, exist_ok=True)
    cmd = [str(python), "-m", "tests.keras_zoo.models", "--worker", name, "--formats", fmt,
           "--input-shape", f"{h},{w},{c}", "--out", str(tmp)]
    if seed is not None:
        cmd += ["--seed", str(seed)]
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="2",
               CUDA_VISIBLE_DEVICES="")
    r = subprocess.run(cmd, cwd=str(ROOT), env=env, capture_output=True, text=True,
                       timeout=timeout)
    if r.returncode != 0 or not tmp.exists():
        raise RuntimeError(f"legacy Keras build of {name} ({fmt}) failed (rc "
                           f"{r.returncode}):\n{r.stderr[-4000:]}")
    _publish(tmp, final)
    return final


# --------------------------------------------------------------------------- CLI


def _size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file()) if p.is_dir() \
        else p.stat().st_size


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.keras_zoo.models", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="+", help="model names, or 'all'")
    ap.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    ap.add_argument("--folder", help=f"cache folder (default $NNROSETTA_KERAS_ZOO_CACHE or "
                                     f"{DEFAULT_CACHE})")
    ap.add_argument("--input-shape", help="H,W,3 (default: the model's)")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    shape = tuple(int(d) for d in args.input_shape.split(",")) if args.input_shape else None
    if args.worker:  # the legacy venv: build one model, save one format to --out
        save(build(args.names[0], shape, args.seed), args.out, args.formats[0])
        return 0
    names = list(MODELS) if args.names == ["all"] else args.names
    rows = []
    for name in names:
        t0 = time.perf_counter()
        model = None
        if any(f in KERAS3_FORMATS for f in args.formats):
            model = build(name, shape, args.seed)
        t_build = time.perf_counter() - t0
        for fmt in args.formats:
            t1 = time.perf_counter()
            p = ensure(name, fmt, args.folder, shape, args.seed,
                       model=model if fmt in KERAS3_FORMATS else None)
            dt = time.perf_counter() - t1
            rows.append({"model": name, "format": fmt, "build_s": round(t_build, 2),
                         "save_s": round(dt, 2), "MB": round(_size(p) / 1e6, 1),
                         "path": str(p)})
            print(f"{name:12s} {fmt:18s} build {t_build:6.2f}s  save {dt:6.2f}s "
                  f"{_size(p) / 1e6:8.1f} MB  {p}", flush=True)
        del model
    if rows:
        print(json.dumps(rows), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
