"""Reading an .onnx file: protobuf parsing only (nothing in the model is executed), external
data taken only from the files sent with the request, and input shapes."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import grpc
import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import helper, numpy_helper

from nnrosetta.options import parse_input_shapes
from nnrosetta.rpc.errors import Issue
from nnrosetta_frontend_onnx.importers import Tensor

FORMAT = "onnx"
MIN_OPSET = 7
DEFAULT_DOMAINS = ("", "ai.onnx")
FLOAT_TYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE,
               onnx.TensorProto.BFLOAT16}
_CHECKER_LIMIT = 2**31 - 1 - 2**20   # check_model works on protos below 2 GB


def max_opset() -> int:
    return onnx.defs.onnx_opset_version()


@dataclass
class Loaded:
    model: onnx.ModelProto | None = None
    opset: int = 0
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT
    input_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    data_files: dict[str, str] = field(default_factory=dict)   # file name -> local path
    initializers: dict[str, Tensor] = field(default_factory=dict)
    size: int = 0
    checker_error: str = ""


def default_opset(model: onnx.ModelProto) -> int:
    for o in model.opset_import:
        if o.domain in DEFAULT_DOMAINS:
            return int(o.version)
    return 1 if model.ir_version and model.ir_version < 3 else 0


def parse_model(path: str, label: str) -> tuple[onnx.ModelProto | None, list[Issue], int]:
    """The ModelProto of a file, or issues saying why the file is not one."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return None, [Issue("UNREADABLE", label, f"cannot read {label}: {e}")], 0
    if not data:
        return None, [Issue("NOT_ONNX", label, f"{label} is empty, not an ONNX model")], 0
    m = onnx.ModelProto()
    try:
        m.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as e:
        return None, [Issue("NOT_ONNX", label, f"{label} is not an ONNX model (ModelProto) or "
                            f"is truncated: protobuf cannot parse it ({e})")], size
    del data
    if not m.HasField("graph") or not m.ir_version or \
            (len(m.graph.node) == 0 and len(m.graph.output) == 0):
        return None, [Issue("NOT_ONNX", label, f"{label} parses as protobuf but holds no ONNX "
                            "graph (no ir_version, nodes or outputs): not an ONNX model, or "
                            "truncated")], size
    return m, [], size


def _external_entries(t: onnx.TensorProto) -> dict[str, str]:
    return {e.key: e.value for e in t.external_data}


def _safe_location(loc: str) -> bool:
    if not loc or os.path.isabs(loc) or "\\" in loc or re.match(r"^[A-Za-z]:", loc):
        return False
    return ".." not in loc.replace("\\", "/").split("/")


def _np_dtype(t: onnx.TensorProto) -> np.dtype:
    return np.dtype(helper.tensor_dtype_to_np_dtype(t.data_type))


def _external_tensor(t: onnx.TensorProto, path: str) -> Tensor:
    ent = _external_entries(t)
    off = int(ent.get("offset", 0) or 0)
    dtype = _np_dtype(t)
    shape = tuple(int(d) for d in t.dims)
    count = int(np.prod(shape)) if shape else 1
    length = int(ent.get("length", 0) or 0) or count * dtype.itemsize

    def load() -> np.ndarray:
        with open(path, "rb") as f:
            f.seek(off)
            buf = f.read(length)
        if len(buf) != length:
            raise ValueError(f"external data for {t.name!r} ends early")
        return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape).copy()

    return Tensor(shape, load, dtype.name)


def _inline_tensor(t: onnx.TensorProto) -> Tensor:
    shape = tuple(int(d) for d in t.dims)
    try:
        dtype = _np_dtype(t).name
    except (KeyError, TypeError, ValueError):
        dtype = "float32"
    return Tensor(shape, lambda: np.asarray(numpy_helper.to_array(t)).reshape(shape), dtype)


def index_initializers(model: onnx.ModelProto, data_files: Mapping[str, str],
                       issues: list[Issue]) -> dict[str, Tensor]:
    """name -> lazily loaded Tensor for every initializer; external data only from the sent
    files (by file name), never from a path inside the model."""
    out: dict[str, Tensor] = {}
    missing: set[str] = set()
    for t in model.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            loc = _external_entries(t).get("location", "")
            if not _safe_location(loc):
                issues.append(Issue("BAD_EXTERNAL_DATA", t.name, f"initializer {t.name!r} "
                                    f"points at {loc!r}: external data must be a relative file "
                                    "name sent with the model"))
                continue
            base = os.path.basename(loc)
            path = data_files.get(base)
            if path is None:
                if base not in missing:
                    missing.add(base)
                    issues.append(Issue("MISSING_FILE", base, f"initializer {t.name!r} (and "
                                        f"maybe others) keeps its data in {loc!r}: send that "
                                        f"file with role {base!r}"))
                continue
            tens = _external_tensor(t, path)
            ent = _external_entries(t)
            need = int(ent.get("offset", 0) or 0) + (int(ent.get("length", 0) or 0) or int(
                np.prod(tens.shape, dtype=np.int64)) * np.dtype(tens.dtype).itemsize)
            if os.path.getsize(path) < need:
                issues.append(Issue("TRUNCATED", base, f"{base} has "
                                    f"{os.path.getsize(path)} bytes, but initializer {t.name!r} "
                                    f"needs bytes up to {need}"))
                continue
            out[t.name] = tens
        else:
            out[t.name] = _inline_tensor(t)
    return out


def load(files: Mapping[str, str], names: Mapping[str, str], options: Mapping[str, str],
         fmt: str = FORMAT) -> Loaded:
    out = Loaded()
    if fmt and fmt != FORMAT:
        out.issues.append(Issue("BAD_FORMAT", "format", f"frontend-onnx reads format 'onnx', "
                                f"not {fmt!r}"))
        return out
    path = files.get("network")
    label = names.get("network", "network")
    if path is None:
        out.issues.append(Issue("MISSING_FILE", "network", "send the .onnx file with role "
                                "'network' (external data files with their file names as "
                                "roles)"))
        return out
    opt = options.get("input_shape", "")
    if opt:
        try:
            out.input_shapes = parse_input_shapes(opt)
        except ValueError as e:
            out.issues.append(Issue("BAD_OPTION", "input_shape", f"{e}; expected "
                                    "\"input:1,3,224,224;other:1,10\""))
    m, issues, out.size = parse_model(path, label)
    out.issues.extend(issues)
    if m is None:
        return out
    out.model = m
    out.opset = default_opset(m)
    if out.opset == 0:   # no default-domain import: every op is from another domain
        for nd in m.graph.node:
            out.issues.append(Issue(
                "UNSUPPORTED_OP", nd.name or (nd.output[0] if nd.output else nd.op_type),
                f"op {nd.op_type} (domain {nd.domain or 'ai.onnx'}) in node "
                f"{nd.name or nd.output[0]!r}: frontend-onnx reads the default ONNX domain "
                "only"))
        if not m.graph.node:
            out.issues.append(Issue("UNSUPPORTED_OPSET", "opset_import",
                                    f"{label} imports no default ONNX opset"))
        return out
    if out.opset < MIN_OPSET or out.opset > max_opset():
        out.issues.append(Issue("UNSUPPORTED_OPSET", "opset_import", f"{label} uses ONNX opset "
                                f"{out.opset}; frontend-onnx reads opsets {MIN_OPSET}.."
                                f"{max_opset()} (convert older models with "
                                "onnx.version_converter first)"))
        return out
    out.data_files = {names.get(r, os.path.basename(p)): p for r, p in files.items()
                      if r != "network"}
    out.initializers = index_initializers(m, out.data_files, out.issues)
    if any(i.code == "TRUNCATED" for i in out.issues):
        out.status = grpc.StatusCode.DATA_LOSS
    if not out.issues and m.ByteSize() < _CHECKER_LIMIT:
        # ONNX's checker is stricter than the runtimes (e.g. it wants shapes on graph
        # outputs): its complaint is reported only when the conversion fails as well
        try:
            onnx.checker.check_model(m)
        except onnx.checker.ValidationError as e:
            msg = " ".join(str(e).strip().splitlines()[:6])[:600]
            out.checker_error = f"{label} fails ONNX's checker: {msg}"
            out.notes.append(out.checker_error)
    return out
