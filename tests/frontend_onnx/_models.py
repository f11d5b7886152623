"""Helpers: ONNX models built with onnx.helper in the tests, converted by the frontend and
compared (the IR's NumPy reference) against onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from nnrosetta.ir import registry
from nnrosetta.rpc.converter import Model

F = TensorProto.FLOAT


def rng(seed: int = 0):
    g = np.random.default_rng(seed)
    return lambda *shape: g.standard_normal(shape).astype(np.float32)


def init(name: str, arr) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(arr), name)


def make(nodes, inputs: dict[str, list], outputs: dict[str, list | None], inits=(),
         opset: int = 17, ir_version: int | None = None) -> onnx.ModelProto:
    g = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info(k, F, v) for k, v in inputs.items()],
        [helper.make_tensor_value_info(k, F, v) for k, v in outputs.items()],
        list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = ir_version or min(helper.find_min_ir_version_for([
        helper.make_opsetid("", opset)]) + 1, 10)
    return m


def save(m: onnx.ModelProto, folder: Path, name: str = "model.onnx") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(m.SerializeToString())
    return p


def model_for(path: Path, extra: dict[str, Path] | None = None, options=None) -> Model:
    files = {"network": str(path)}
    names = {"network": path.name}
    for n, p in (extra or {}).items():
        files[n] = str(p)
        names[n] = n
    return Model(format="onnx", options=dict(options or {}), files=files, names=names,
                 workdir=str(path.parent))


def need_ir(*ops: str) -> None:
    missing = [o for o in ops if not registry.has(o)]
    assert not missing, f"IR ops not in the registry: {missing}"


def to_ir(m: onnx.ModelProto, tmp: Path, options=None):
    """(graph, weights) from the frontend's ToIR, raising its ConversionError."""
    from nnrosetta.ir.graph import Graph
    from nnrosetta_frontend_onnx import OnnxConverter

    graph, weights = None, {}
    for item in OnnxConverter().to_ir(model_for(save(m, tmp), options=options)):
        if isinstance(item, Graph):
            graph = item
        elif isinstance(item, tuple):
            weights[item[0]] = item[1]
    return graph, weights


def ort_run(m: onnx.ModelProto, feeds: dict[str, np.ndarray], fetch=None):
    import onnxruntime as ort

    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    return dict(zip([o.name for o in sess.get_outputs()], sess.run(None, feeds), strict=True))


def scaled_error(ref: np.ndarray, got: np.ndarray) -> float:
    ref = np.asarray(ref, np.float64)
    got = np.asarray(got, np.float64).reshape(ref.shape)
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    diff = float(np.max(np.abs(ref - got))) if ref.size else 0.0
    return diff / scale if scale > 0 else diff


def check_against_ort(m: onnx.ModelProto, tmp: Path, feeds: dict[str, np.ndarray] | None = None,
                      tol: float = 1e-5, options=None):
    """Convert, run the IR reference and onnxruntime on the same inputs, compare every
    output; returns the IR graph."""
    graph, weights = to_ir(m, tmp, options)
    if feeds is None:
        r = rng(1)
        feeds = {n.name: r(*n.attrs["shape"]) for n in graph.inputs}
    ref = ort_run(m, {n.attrs["_source_name"]: feeds[n.name] for n in graph.inputs})
    got = registry.run_reference(graph, weights, feeds)
    nodes = graph.node_map()
    for ref_name, o in zip(graph.outputs, m.graph.output, strict=True):
        assert nodes[ref_name.split(":")[0]].attrs["_source_name"] == o.name
        want = ref[o.name]
        have = got[ref_name]
        assert have.shape == want.shape, (o.name, have.shape, want.shape)
        err = scaled_error(want, have)
        assert err <= tol, (o.name, err)
    return graph
