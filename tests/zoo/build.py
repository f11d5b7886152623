"""Build (and cache) the Caffe test model zoo.

``build(name)`` returns ``(prototxt_path, caffemodel_path)`` under
``$NNROSETTA_ZOO_CACHE`` (default ``/tmp/nnrosetta-zoo``) in a folder keyed by the model name
and a hash of the generator source (nets.py, weights.py), so edits to the generators rebuild.

    python -m tests.zoo.build all            # every model, with timings and sizes
    python -m tests.zoo.build lenet vgg16    # some
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from tests.zoo import nets, weights

DEFAULT_CACHE = "/tmp/nnrosetta-zoo"


@dataclass(frozen=True)
class ModelInfo:
    inputs: dict[str, tuple[int, ...]]  # input blob name -> NCHW shape
    pre_softmax: str  # the layer (and blob) that feeds the Softmax "prob"
    slow: bool = False  # big: build and test only when asked for
    output: str = "prob"


MODELS: dict[str, ModelInfo] = {
    "lenet": ModelInfo({"data": (1, 1, 28, 28)}, "ip2"),
    "lenet_v1": ModelInfo({"data": (1, 1, 28, 28)}, "ip2"),
    "alexnet": ModelInfo({"data": (1, 3, 227, 227)}, "fc8", slow=True),
    "vgg16": ModelInfo({"data": (1, 3, 224, 224)}, "fc8", slow=True),
    "googlenet": ModelInfo({"data": (1, 3, 224, 224)}, "loss3/classifier", slow=True),
    "resnet50": ModelInfo({"data": (1, 3, 224, 224)}, "fc1000", slow=True),
    # conv10 is ReLU'd in place and globally averaged by pool10, which feeds prob.
    "squeezenet11": ModelInfo({"data": (1, 3, 227, 227)}, "pool10"),
    "mobilenet_v1": ModelInfo({"data": (1, 3, 224, 224)}, "fc7"),
    "tiny_eltwise": ModelInfo({"data": (1, 4, 8, 8)}, "ip"),
    "tiny_slice_concat": ModelInfo({"data": (1, 6, 8, 8)}, "ip"),
    "tiny_misc": ModelInfo({"data": (1, 3, 12, 12)}, "ip2"),
    "tiny_pool_ceil": ModelInfo({"data": (1, 3, 10, 11)}, "ip"),
}


def cache_root(folder: str | os.PathLike | None = None) -> Path:
    return Path(folder or os.environ.get("NNROSETTA_ZOO_CACHE") or DEFAULT_CACHE)


def source_hash() -> str:
    h = hashlib.sha256()
    for mod in (nets, weights):
        h.update(Path(mod.__file__).read_bytes())
    return h.hexdigest()[:12]


def seed_of(name: str) -> int:
    return zlib.crc32(name.encode())


def build(name: str, folder: str | os.PathLike | None = None) -> tuple[Path, Path]:
    """(prototxt, caffemodel) of zoo model ``name``, built unless cached."""
    if name not in MODELS:
        raise KeyError(f"unknown zoo model {name!r}; known: {', '.join(MODELS)}")
    root = cache_root(folder)
    key = f"{name}-{source_hash()}"
    final = root / key
    prototxt, caffemodel = final / f"{name}.prototxt", final / f"{name}.caffemodel"
    if prototxt.is_file() and caffemodel.is_file():
        return prototxt, caffemodel
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".{key}.{os.getpid()}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        net = nets.spec(name)
        (tmp / prototxt.name).write_text(net.prototxt())
        weights.write_caffemodel(net, tmp / caffemodel.name, seed_of(name))
        try:
            tmp.rename(final)
        except OSError:  # another process finished first
            if not (prototxt.is_file() and caffemodel.is_file()):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for old in root.glob(f"{name}-*"):  # builds from older generator versions
        if old.name != key and old.is_dir() and old.name[len(name) + 1:].isalnum():
            shutil.rmtree(old, ignore_errors=True)
    return prototxt, caffemodel


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.zoo.build", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="+", help="model names, or 'all'")
    ap.add_argument("--folder", help=f"cache folder (default $NNROSETTA_ZOO_CACHE or "
                                     f"{DEFAULT_CACHE})")
    args = ap.parse_args(argv)
    names = list(MODELS) if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown models: {', '.join(unknown)}")
    total_t, total_b = 0.0, 0
    for name in names:
        t0 = time.perf_counter()
        proto, model = build(name, args.folder)
        dt = time.perf_counter() - t0
        size = model.stat().st_size
        total_t += dt
        total_b += size
        print(f"{name:18s} {dt:7.2f}s {size / 2**20:9.1f} MiB  {model}", flush=True)
    print(f"{'total':18s} {total_t:7.2f}s {total_b / 2**20:9.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
