"""Run an ONNX model with onnxruntime (CPU): fetch names are ONNX tensor names; intermediate
tensors are fetched by adding them as graph outputs."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping

import grpc
import numpy as np
import onnx
from onnx import helper

from nnrosetta.rpc.errors import ConversionError, Issue
from nnrosetta_frontend_onnx.convert import input_name_map
from nnrosetta_frontend_onnx.loader import Loaded

_INLINE_LIMIT = 2**31 - 2**24


def _external_bytes(loaded: Loaded) -> int:
    return sum(os.path.getsize(p) for p in loaded.data_files.values())


def _has_external(model: onnx.ModelProto) -> bool:
    return any(t.data_location == onnx.TensorProto.EXTERNAL for t in model.graph.initializer)


def run_onnxruntime(loaded: Loaded, inputs: Mapping[str, np.ndarray], fetch: list[str],
                    workdir: str) -> tuple[list[tuple[str, np.ndarray]], dict[str, str]]:
    import onnxruntime as ort

    model = loaded.model
    g = model.graph
    outputs = [o.name for o in g.output]
    fetch = list(fetch) or outputs
    inits = {t.name for t in g.initializer}
    produced = {o for nd in g.node for o in nd.output if o}
    names = input_name_map(model)
    onnx_inputs = {vi.name: vi for vi in g.input if vi.name not in inits}

    feeds: dict[str, np.ndarray] = {}
    for k, v in inputs.items():
        name = names.get(k, k)
        if name not in onnx_inputs:
            raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, "unknown input",
                                  [Issue("BAD_INPUT", k, f"the model has no input {k!r} "
                                         f"(inputs: {sorted(onnx_inputs)})")], "BAD_INPUT")
        et = onnx_inputs[name].type.tensor_type.elem_type
        dt = helper.tensor_dtype_to_np_dtype(et) if et else np.float32
        feeds[name] = np.ascontiguousarray(np.asarray(v).astype(dt, copy=False))

    unknown = [f for f in fetch if f not in produced and f not in inits and
               f not in onnx_inputs]
    if unknown:
        raise ConversionError(grpc.StatusCode.NOT_FOUND, "cannot fetch tensors",
                              [Issue("UNKNOWN_TENSOR", f, f"the ONNX graph has no tensor {f!r}")
                               for f in unknown], "UNKNOWN_TENSOR")
    run_names = [f for f in dict.fromkeys(fetch) if f in produced]
    for f in run_names:
        if f not in outputs:
            g.output.append(onnx.ValueInfoProto(name=f))

    so = ort.SessionOptions()
    so.log_severity_level = 3
    so.intra_op_num_threads = max(1, min(4, os.cpu_count() or 1))
    providers = ["CPUExecutionProvider"]
    if _has_external(model) and loaded.size + _external_bytes(loaded) < _INLINE_LIMIT:
        # the external data, read from the sent files, goes inline: one in-memory model
        for t in g.initializer:
            if t.data_location == onnx.TensorProto.EXTERNAL:
                arr = np.ascontiguousarray(loaded.initializers[t.name].load())
                t.raw_data = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
                del t.external_data[:]
                t.data_location = onnx.TensorProto.DEFAULT
    if _has_external(model):
        # over 2 GB: the model beside its data files, linked (or copied) under the names the
        # model uses; onnxruntime refuses data outside the model's folder, symlinks included
        with tempfile.TemporaryDirectory(prefix="ort-", dir=workdir or None) as d:
            for t in g.initializer:
                if t.data_location != onnx.TensorProto.EXTERNAL:
                    continue
                loc = {e.key: e.value for e in t.external_data}["location"]
                dst = os.path.join(d, os.path.normpath(loc))
                if not os.path.lexists(dst):
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    src = loaded.data_files[os.path.basename(loc)]
                    try:
                        os.link(src, dst)
                    except OSError:
                        shutil.copyfile(src, dst)
            path = os.path.join(d, "model.onnx")
            onnx.save_model(model, path)
            sess = ort.InferenceSession(path, so, providers=providers)
    else:
        sess = ort.InferenceSession(model.SerializeToString(), so, providers=providers)
    vals = dict(zip(run_names, sess.run(run_names, feeds), strict=True)) if run_names else {}
    out: list[tuple[str, np.ndarray]] = []
    for f in fetch:
        if f in vals:
            out.append((f, np.asarray(vals[f])))
        elif f in feeds:
            out.append((f, feeds[f]))
        else:
            out.append((f, np.asarray(loaded.initializers[f].load())))
    info = {"runtime": f"onnxruntime {ort.__version__}", "provider": providers[0],
            "onnx_opset": str(loaded.opset)}
    return out, info
