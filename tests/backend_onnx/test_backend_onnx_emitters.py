"""Each emitter on small IR graphs: the written model passes onnx.checker (full_check, run by
FromIR itself) and onnxruntime agrees with the IR NumPy reference, at several opsets."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta.rpc.converter import Model
from nnrosetta_backend_onnx import build, emitters
from nnrosetta_backend_onnx.service import MODEL_ONNX, MODEL_TXT, OnnxBackend

from ._cases import CASES, feeds, graph, inp

BACKEND = OnnxBackend()
OPSETS = [13, 17, 18, 21, build.max_opset()]


def convert(g, w, folder, **options) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    return {f: p for f, p in (i for i in BACKEND.from_ir(g, w, options, str(folder))
                              if isinstance(i, tuple))}


def close(a, ref, rel=1e-5):
    assert a.shape == ref.shape, (a.shape, ref.shape)
    assert a.dtype == ref.dtype, (a.dtype, ref.dtype)
    if ref.dtype.kind in "iub":
        np.testing.assert_array_equal(a, ref)
        return
    err = np.max(np.abs(a.astype(np.float64) - ref)) if ref.size else 0.0
    assert err <= rel * max(1.0, float(np.max(np.abs(ref)))), err


def test_every_ir_op_has_an_emitter():
    missing = sorted(set(registry.all_ops()) - set(emitters.supported_ops()))
    assert not missing, f"IR ops without an ONNX emitter: {missing}"
    assert not [k for k in emitters.all_emitters() if not registry.has(k)]


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_emitter_matches_reference(case, opset, tmp_path):
    g, w = CASES[case]()
    missing = sorted({n.op for n in g.nodes} - set(registry.all_ops()))
    assert not missing, f"IR ops {missing} are not in the registry"
    x = feeds(g)
    ref = registry.run_reference(g, w, x)
    files = convert(g, w, tmp_path, opset=str(opset))
    assert set(files) == {MODEL_ONNX, MODEL_TXT}
    m = onnx.load(files[MODEL_ONNX])
    assert m.opset_import[0].version == opset
    names = {n.name for n in g.nodes}
    # every ONNX node carries its IR node's name
    assert all(n.name.split("/")[0] in names or n.name in names or
               any(n.name.startswith(k + "/") for k in names) for n in m.graph.node)
    outs, info = BACKEND.run(Model(format="onnx", files=files, workdir=str(tmp_path)), x, [])
    assert [k for k, _ in outs] == g.output_refs()
    for k, v in outs:
        close(v, ref[k])


def test_model_txt_is_readable_without_weights(tmp_path):
    g, w = CASES["caffe_like"]()
    files = convert(g, w, tmp_path)
    text = open(files[MODEL_TXT], encoding="utf-8").read()
    assert "Conv" in text and "LRN" in text and "Softmax" in text
    assert '"conv1/7x7_s2"' in text              # the IR node name is the ONNX node name
    assert "opset_import" in text
    assert len(text) < 20_000                     # no weight data
    m = onnx.load(files[MODEL_ONNX])
    assert "conv1_7x7_s2.weight" in {t.name for t in m.graph.initializer}
    props = {p.key: p.value for p in m.metadata_props}
    assert props["source.framework"] == "caffe"


def test_dropout_is_identity_and_names(tmp_path):
    g, w = CASES["caffe_like"]()
    m = onnx.load(convert(g, w, tmp_path)[MODEL_ONNX])
    ops = {n.name: n.op_type for n in m.graph.node}
    assert ops["drop"] == "Identity"
    assert ops["bn"] == "BatchNormalization"
    assert ops["loss3/classifier"] == "Gemm" and ops["loss3/classifier/Flatten"] == "Flatten"
    assert [o.name for o in m.graph.output] == ["prob"]


def test_split_and_lrn_opset_forms(tmp_path):
    g, w = CASES["split"]()
    m = onnx.load(convert(g, w, tmp_path / "a", opset="13")[MODEL_ONNX])
    split = next(n for n in m.graph.node if n.op_type == "Split")
    assert len(split.input) == 2 and [o for o in split.output] == ["sp", "sp_1"]
    g, w = CASES["lrn_across_even"]()
    m = onnx.load(convert(g, w, tmp_path / "b")[MODEL_ONNX])
    assert "LRN" not in {n.op_type for n in m.graph.node}    # composed: window differs
    g, w = CASES["lrn_across"]()
    m = onnx.load(convert(g, w, tmp_path / "c")[MODEL_ONNX])
    assert [n.op_type for n in m.graph.node] == ["LRN"]


@pytest.mark.parametrize("opset,form", [(13, "attr"), (17, "attr"), (18, "input")])
def test_reduce_axes_by_opset(opset, form, tmp_path):
    g, w = CASES["ReduceMean"]()
    m = onnx.load(convert(g, w, tmp_path, opset=str(opset))[MODEL_ONNX])
    n = next(n for n in m.graph.node if n.op_type == "ReduceMean")
    assert (len(n.input) == 2) == (form == "input")
    assert any(a.name == "axes" for a in n.attribute) == (form == "attr")


@pytest.mark.parametrize("opset,native", [(13, False), (19, False), (20, True)])
def test_gelu_by_opset(opset, native, tmp_path):
    g, w = CASES["gelu"]()
    m = onnx.load(convert(g, w, tmp_path, opset=str(opset))[MODEL_ONNX])
    assert ("Gelu" in {n.op_type for n in m.graph.node}) == native


def test_dynamic_batch_input(tmp_path):
    g, w = CASES["caffe_like"]()
    g.nodes[0].attrs["shape"] = [-1, 3, 8, 8]
    files = convert(g, w, tmp_path)
    m = onnx.load(files[MODEL_ONNX])
    assert m.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    x = {"data": np.random.default_rng(0).standard_normal((5, 3, 8, 8)).astype(np.float32)}
    outs, _ = BACKEND.run(Model(format="onnx", files=files, workdir=str(tmp_path)), x, [])
    close(outs[0][1], registry.run_reference(g, w, x)["prob"])


def test_graph_output_that_is_an_input_and_duplicates(tmp_path):
    nodes = [inp(), Node("r", "Relu", ["data"])]
    g, w = graph(nodes, {}, outputs=["r", "data", "r"])
    files = convert(g, w, tmp_path)
    x = feeds(g)
    outs, _ = BACKEND.run(Model(format="onnx", files=files, workdir=str(tmp_path)), x, [])
    assert [k for k, _ in outs] == ["r", "data", "r"]
    close(outs[1][1], x["data"])
