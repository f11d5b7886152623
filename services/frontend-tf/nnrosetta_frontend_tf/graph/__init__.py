"""The TensorFlow graph importer: SavedModel signatures (plain ``tf.Module`` and Keras 3
``model.export()``) and frozen GraphDef ``.pb`` files -> IR; and running them with
TensorFlow for verification.

A SavedModel's signature (option ``signature``, default ``serving_default``) is frozen
(variables become constants) and imported like a frozen GraphDef. For a GraphDef the options
``inputs`` / ``outputs`` name the tensors (``"x:0,y:0"``); without them Placeholders are the
inputs and the tensors nothing consumes the outputs. ``input_shape`` gives shapes in IR
layout (NCHW), as for every frontend.

IR nodes carry ``_source_name`` (the TF op whose output 0 they equal; ``op:i`` for another
output) and ``_source_perm`` (channels-last tensors are channels first in the IR).
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from nnrosetta_frontend_tf.conversion import Conversion
from nnrosetta_frontend_tf.graph.layout import inverse
from nnrosetta_frontend_tf.graph.load import LoadError, Source, load
from nnrosetta_frontend_tf.graph.ops._base import op_of, tensor_name

__all__ = ["convert_graph", "run_graph", "supported_ops"]


def supported_ops() -> list[str]:
    """TF op types the graph importer converts (each importer's IR ops all in the registry),
    plus the ones it folds or skips (Const, Placeholder, NoOp, Shape ...)."""
    from nnrosetta.ir import registry
    from nnrosetta_frontend_tf.graph.convert import SHAPE_OPS
    from nnrosetta_frontend_tf.graph.ops import all_importers

    have = registry.all_ops()
    ops = {t for t, imp in all_importers().items() if all(o in have for o in imp.ir_ops)}
    return sorted(ops | SHAPE_OPS | {"Const", "Placeholder", "NoOp"})


def convert_graph(path: str, options: Mapping[str, str]) -> Conversion:
    """A SavedModel directory or frozen GraphDef file -> IR graph + weights (or every issue)."""
    from nnrosetta_frontend_tf.graph.convert import convert_with_layouts

    options = dict(options or {})
    try:
        src = load(path, options)
    except LoadError as e:
        return Conversion(None, {}, e.issues, e.status, [])
    conv, perms = convert_with_layouts(src, options)
    _remember(path, options, src, conv, perms)
    return conv


# -- running ---------------------------------------------------------------------------------

class _Layouts:
    """What Run needs from a conversion: IR input name -> (tensor, layout, dtype), the IR
    outputs with their tensors, and the layout of every TF tensor held as an activation."""

    def __init__(self, src: Source, conv: Conversion | None, perms: dict):
        from nnrosetta_frontend_tf.graph.convert import input_name
        from nnrosetta_frontend_tf.graph.ops._base import dtype_name

        self.src = src
        self.perms = dict(perms)
        self.inputs: dict[str, tuple[str, tuple | None, str]] = {}
        nodes = {nd.name: nd for nd in src.graph_def.node}
        ir_inputs = {}
        if conv is not None and conv.graph is not None:
            ir_inputs = {tensor_name(n.attrs.get("_source_name", "")): n.name
                         for n in conv.graph.nodes if n.op == "Input"}
        for t in src.inputs:
            nd = nodes.get(op_of(t))
            dtype = "float32"
            if nd is not None and "dtype" in nd.attr:
                dtype = dtype_name(nd.attr["dtype"].type)
            perm = self.perms.get(t)
            self.inputs[ir_inputs.get(t, input_name(t))] = (t, perm, dtype)
        if conv is not None and conv.graph is not None:
            self.outputs = list(zip(conv.graph.outputs, src.outputs, strict=True))
        else:
            self.outputs = [(op_of(t) if t.endswith(":0") else t, t) for t in src.outputs]


_CACHE: OrderedDict[tuple, _Layouts] = OrderedDict()
_LOCK = threading.Lock()


def _key(path: str, options: Mapping[str, str]) -> tuple:
    try:
        st = os.stat(os.path.join(path, "saved_model.pb") if os.path.isdir(path) else path)
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    return (os.path.abspath(path), stamp, tuple(sorted((options or {}).items())))


def _remember(path: str, options: Mapping[str, str], src: Source, conv: Conversion,
              perms: dict) -> None:
    with _LOCK:
        _CACHE[_key(path, options)] = _Layouts(src, conv, perms)
        while len(_CACHE) > 2:
            _CACHE.popitem(last=False)


def _layouts(path: str, options: Mapping[str, str]) -> _Layouts:
    with _LOCK:
        hit = _CACHE.get(_key(path, options))
    if hit is not None:
        return hit
    from nnrosetta_frontend_tf.graph.convert import convert_with_layouts

    src = load(path, dict(options))
    conv, perms = convert_with_layouts(src, dict(options))
    _remember(path, options, src, conv, perms)
    with _LOCK:
        return _CACHE[_key(path, options)]


def run_graph(path: str, options: Mapping[str, str], inputs: Mapping[str, np.ndarray],
              fetch: list[str]) -> list[tuple[str, np.ndarray]]:
    """Run the model with TensorFlow. ``inputs`` by IR input name in IR layout; ``fetch``:
    TF op or tensor names (``_source_name``), or empty for the model's outputs (named by the
    IR outputs). Values come back in IR layout."""
    from nnrosetta_frontend_tf.graph import tfexec

    options = dict(options or {})
    lay = _layouts(path, options)
    feeds: dict[str, np.ndarray] = {}
    for name, (t, perm, dtype) in lay.inputs.items():
        if name not in inputs:
            raise KeyError(f"no value for input {name!r} (inputs: {sorted(lay.inputs)})")
        v = np.asarray(inputs[name])
        if perm is not None:
            v = v.transpose(inverse(perm))
        feeds[t] = np.ascontiguousarray(v.astype(dtype, copy=False))
    if fetch:
        names = list(fetch)
        tensors = [tensor_name(f) for f in fetch]
    else:
        names = [n for n, _ in lay.outputs]
        tensors = [t or tensor_name(n) for n, t in lay.outputs]
    src = lay.src
    _refuse_side_effects(src, tensors)
    if not fetch and src.function is not None and src.output_keys and \
            len(src.input_keys) == len(src.inputs) and len(src.output_keys) == len(tensors):
        vals = _call_signature(src, feeds)
    else:
        vals = tfexec.run(src.graph_def, feeds, tensors)
    out = []
    for name, t, v in zip(names, tensors, vals, strict=True):
        perm = lay.perms.get(t)
        out.append((name, np.ascontiguousarray(v.transpose(perm)) if perm is not None and
                    v.ndim == len(perm) else v))
    return out


# ops that touch files or run Python: a model that needs them is not run
SIDE_EFFECTS = {"ReadFile", "WriteFile", "MatchingFiles", "DeleteFile", "ImmutableConst",
                "Save", "SaveV2", "SaveSlices", "Restore", "RestoreV2", "RestoreSlice",
                "MergeV2Checkpoints", "PyFunc", "PyFuncStateless", "EagerPyFunc",
                "WholeFileReader", "WholeFileReaderV2", "TFRecordReader", "TFRecordReaderV2",
                "FixedLengthRecordReader", "FixedLengthRecordReaderV2", "TextLineReader",
                "TextLineReaderV2", "ReaderReadV2", "ReaderRead", "DecodeCSV", "PrintV2"}


def _refuse_side_effects(src: Source, tensors: list[str]) -> None:
    from nnrosetta.rpc.errors import ConversionError, Issue
    from nnrosetta_frontend_tf.graph.load import topo_order

    nodes = {nd.name: nd for nd in src.graph_def.node}
    bad = [n for n in topo_order(nodes, [op_of(t) for t in tensors],
                                 stop={op_of(t) for t in src.inputs})
           if nodes[n].op in SIDE_EFFECTS]
    if bad:
        import grpc

        raise ConversionError(grpc.StatusCode.FAILED_PRECONDITION, "the graph reads or writes "
                              "files or runs Python code; it is not run",
                              [Issue("UNSAFE_OP", n, f"TF op {nodes[n].op} in node {n!r}")
                               for n in bad], reason="UNSAFE_OP")


def _call_signature(src: Source, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The SavedModel's outputs as its user gets them: by calling the signature."""
    import tensorflow as tf

    res = src.function(**{k: tf.constant(feeds[t])
                          for t, k in zip(src.inputs, src.input_keys, strict=True)})
    return [np.asarray(res[k]) for k in src.output_keys]
