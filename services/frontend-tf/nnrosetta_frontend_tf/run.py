"""Run a Keras model with TensorFlow: inputs arrive in IR layout (channels-first) and go back
to Keras' layout through the IR Input's ``_source_perm``; the model's outputs, or any layer's
output by its source name (``_source_name``, for the divergence locator), come back in IR
layout.

Only the model outputs: the whole model is called once. Intermediate outputs: the layer calls
of the walk (the same one the importer used, so that names agree) are executed one by one,
eagerly, each by Keras itself; values are dropped as soon as nothing needs them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import grpc
import numpy as np

from nnrosetta.ir.graph import Graph
from nnrosetta.rpc.errors import ConversionError, Issue
from nnrosetta_frontend_tf import compat
from nnrosetta_frontend_tf.layers._base import inverse
from nnrosetta_frontend_tf.walk import Walk


def _perms(graph: Graph) -> dict[str, list[int] | None]:
    """source name -> _source_perm of the IR node that carries it."""
    out: dict[str, list[int] | None] = {}
    for n in graph.nodes:
        s = n.attrs.get("_source_name")
        if isinstance(s, str) and s not in out:
            p = n.attrs.get("_source_perm")
            out[s] = list(p) if p else None
    return out


def _to_ir(x: np.ndarray, perm) -> np.ndarray:
    x = np.asarray(x)
    if perm and x.ndim == len(perm):
        return np.ascontiguousarray(np.transpose(x, perm))
    return x


def _substitute(obj: Any, values: Mapping[int, Any]) -> Any:
    """The call's arguments with each symbolic tensor replaced by its value."""
    if id(obj) in values:
        return values[id(obj)]
    if isinstance(obj, list):
        return [_substitute(o, values) for o in obj]
    if isinstance(obj, tuple):
        return tuple(_substitute(o, values) for o in obj)
    if isinstance(obj, dict):
        return {k: _substitute(v, values) for k, v in obj.items()}
    return obj


def run_keras(model, w: Walk, graph: Graph, inputs: Mapping[str, np.ndarray],
              fetch: list[str]) -> tuple[list[tuple[str, np.ndarray]], dict[str, str]]:
    import tensorflow as tf

    perms = _perms(graph)
    in_nodes = {n.attrs.get("_source_name"): n for n in graph.inputs}
    feeds: dict[int, Any] = {}
    src_inputs = []
    missing = []
    by_ir = {n.name: n for n in graph.inputs}
    used = set()
    for d in w.inputs:
        node = in_nodes.get(d.name)
        ir_name = node.name if node is not None else d.name
        x = inputs.get(ir_name)
        if x is None:
            x = inputs.get(d.name)
            used.add(d.name)
        else:
            used.add(ir_name)
        if x is None:
            missing.append(Issue("MISSING_INPUT", ir_name, f"no value for input {ir_name!r}"))
            continue
        perm = node.attrs.get("_source_perm") if node is not None else None
        x = np.asarray(x)
        if perm and x.ndim == len(perm):
            x = np.transpose(x, inverse(perm))
        dt = d.dtype if d.dtype.startswith(("float", "int", "uint", "bool")) else "float32"
        t = tf.convert_to_tensor(np.ascontiguousarray(x).astype(dt, copy=False))
        feeds[d.key] = t
        src_inputs.append(t)
    unknown = [k for k in inputs if k not in used and k not in by_ir]
    if missing or unknown:
        raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, "bad inputs", missing + [
            Issue("BAD_INPUT", k, f"the model has no input {k!r} (inputs: {sorted(by_ir)})")
            for k in unknown], "BAD_INPUT")
    info = {"runtime": f"TensorFlow {tf.__version__} (Keras {compat.keras_version()})",
            "device": "cpu"}
    if not fetch:
        out = model(src_inputs if len(src_inputs) > 1 else src_inputs[0], training=False)
        outs = out if isinstance(out, (list, tuple)) else [out]
        result = []
        for ref, name, v in zip(graph.outputs, w.output_names, outs, strict=False):
            result.append((ref, _to_ir(np.asarray(v), perms.get(name))))
        return result, info

    # intermediate values: execute the calls one by one
    key_of: dict[str, int] = {}
    for d in w.inputs:
        key_of[d.name] = d.key
    for c in w.calls:
        for i, k in enumerate(c.outputs):
            key_of[c.name if i == 0 else f"{c.name}:{i}"] = k
    unknown = [f for f in fetch if f not in key_of]
    if unknown:
        raise ConversionError(grpc.StatusCode.NOT_FOUND, "cannot fetch tensors", [
            Issue("UNKNOWN_TENSOR", f, f"the Keras model has no layer output {f!r}")
            for f in unknown], "UNKNOWN_TENSOR")
    wanted = {key_of[f] for f in fetch}
    last_use: dict[int, int] = {}
    last_needed = -1
    for i, c in enumerate(w.calls):
        for k in c.inputs:
            last_use[k] = i
        if wanted.intersection(c.outputs):
            last_needed = i
    values: dict[int, Any] = dict(feeds)
    got: dict[int, np.ndarray] = {k: np.asarray(v) for k, v in feeds.items() if k in wanted}
    for i, c in enumerate(w.calls[:last_needed + 1]):
        by_sym = {sym: values[k] for sym, k in c.tensors.items()}
        args = _substitute(c.args, by_sym)
        kwargs = _substitute(c.kwargs, by_sym)
        if compat.has_training_arg(c.layer):
            kwargs["training"] = False
        out = c.layer(*args, **kwargs)
        outs = tf.nest.flatten(out)
        for k, v in zip(c.outputs, outs, strict=False):
            values[k] = v
            if k in wanted:
                got[k] = np.asarray(v)
        for k in c.inputs:
            if last_use.get(k) == i and k not in wanted:
                values.pop(k, None)
    result = []
    for f in fetch:
        result.append((f, _to_ir(got[key_of[f]], perms.get(f))))
    return result, info
