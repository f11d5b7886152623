"""Helpers for the end-to-end tests: upload a zoo model, list what a prefix holds, and an
independent check of the converted model (OpenCV's Caffe runtime vs the generated PyTorch
code, computed here in the test process, outside the gateway)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np


def upload(s3, bucket: str, prefix: str, files: dict[str, Path]) -> dict[str, str]:
    cli = s3.client()
    out = {}
    for role, path in files.items():
        key = f"{prefix}/{Path(path).name}"
        cli.upload_file(str(path), bucket, key)
        out[role] = f"s3://{bucket}/{key}"
    return out


def keys(s3, bucket: str, prefix: str) -> list[str]:
    resp = s3.client().list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for o in resp.get("Contents", []))


def download(s3, bucket: str, prefix: str, names: list[str], dest: Path) -> dict[str, Path]:
    cli = s3.client()
    out = {}
    for n in names:
        out[n] = dest / n
        cli.download_file(bucket, f"{prefix}/{n}", str(out[n]))
    return out


def opencv_forward(prototxt: Path, caffemodel: Path, feeds: dict[str, np.ndarray],
                   layers: list[str]) -> dict[str, np.ndarray]:
    import cv2

    net = cv2.dnn.readNetFromCaffe(str(prototxt), str(caffemodel))
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.enableFusion(False)
    net.enableWinograd(False)   # as the service does: direct convolutions
    for name, x in feeds.items():
        net.setInput(x, name)
    outs = net.forward(layers)
    return {n: np.asarray(o, dtype=np.float32) for n, o in zip(layers, outs, strict=True)}


def torch_forward(model_py: Path, weights: Path, feeds: list[np.ndarray],
                  taps: list[str] | None = None):
    """Load the generated code as a user would and run it (eval mode)."""
    import torch

    spec = importlib.util.spec_from_file_location(f"converted_{abs(hash(model_py))}", model_py)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    model = mod.Model()
    model.load_state_dict(torch.load(weights, weights_only=True), strict=True)
    model.eval()
    with torch.no_grad():
        out = model(*[torch.from_numpy(x) for x in feeds])
    outs = out if isinstance(out, tuple) else (out,)
    return [o.numpy() for o in outs], model, mod


def scaled_error(ref: np.ndarray, got: np.ndarray) -> float:
    ref = ref.astype(np.float64).reshape(-1)
    got = got.astype(np.float64).reshape(-1)
    return float(np.max(np.abs(ref - got)) / max(np.max(np.abs(ref)), 1e-30))
