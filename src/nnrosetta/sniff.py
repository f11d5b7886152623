"""Which framework version saved a model file, read from its metadata without loading it.

The gateway uses this to route a conversion to the frontend whose framework fits the file
(a Keras-2 ``.h5`` to the service running Keras 2, a ``.keras`` to the one running Keras 3).
Nothing here executes or unpickles anything: ``.keras`` is a zip whose ``metadata.json`` is
read as JSON, ``.h5`` root attributes are read with h5py when it is installed, and a Keras-2
SavedModel is recognised by its ``keras_metadata.pb`` (whose JSON strings carry the version).
"""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Mapping

_VERSION = re.compile(rb'"keras_version":\s*"([0-9][0-9A-Za-z.+-]*)"')
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _keras_zip(path: str) -> dict[str, str]:
    try:
        with zipfile.ZipFile(path) as z:
            if "metadata.json" not in z.namelist():
                return {}
            meta = json.loads(z.read("metadata.json")[:1 << 20])
    except (OSError, zipfile.BadZipFile, ValueError):
        return {}
    v = meta.get("keras_version") if isinstance(meta, dict) else None
    return {"keras": str(v)} if v else {}


def _hdf5(path: str) -> dict[str, str]:
    try:
        import h5py
    except ImportError:   # an environment without h5py cannot tell; the caller routes as usual
        return {}
    try:
        with h5py.File(path, "r") as f:
            v = f.attrs.get("keras_version")
            if v is None:
                return {}
            return {"keras": v.decode() if isinstance(v, bytes) else str(v)}
    except (OSError, ValueError):
        return {}


def _magic(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(8)
    except OSError:
        return b""


def saved_by(files: Mapping[str, str]) -> dict[str, str]:
    """{"keras": "2.15.0", ...} for a model's files (role -> local path; a folder's files have
    roles ``network/<relative path>``); {} when nothing tells."""
    net = files.get("network")
    if net is not None and os.path.isdir(net):
        files = {f"network/{os.path.relpath(os.path.join(d, n), net)}": os.path.join(d, n)
                 for d, _, names in os.walk(net) for n in names}
        net = None
    if net is not None:
        head = _magic(net)
        if head.startswith(b"PK"):
            return _keras_zip(net)
        if head == HDF5_MAGIC:
            return _hdf5(net)
        return {}
    meta = files.get("network/keras_metadata.pb")
    if meta is not None:
        try:
            with open(meta, "rb") as f:
                m = _VERSION.search(f.read(1 << 22))
        except OSError:
            m = None
        return {"keras": m.group(1).decode() if m else "2"}
    return {}


def major(version: str) -> str:
    m = re.match(r"\s*(\d+)", version or "")
    return m.group(1) if m else ""
