"""backend-onnx, comparison and logic ops: the written model passes onnx.checker (full_check,
run by FromIR) and onnxruntime agrees exactly with the IR NumPy reference, at several opsets;
bool outputs are typed bool, and mixed input types get the Cast nodes ONNX needs; IR Cast is
ONNX Cast."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import onnx
import pytest

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta.rpc.converter import Model
from nnrosetta_backend_onnx import build
from nnrosetta_backend_onnx.service import MODEL_ONNX

from ._cases import graph, inp
from .test_backend_onnx_emitters import BACKEND, close, convert

RNG = np.random.default_rng(5)
OPSETS = [13, 17, build.max_opset()]
COMPARISONS = ["Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Equal"]
LOGIC = ["And", "Or", "Xor"]
SPECIAL = np.array([[np.nan, np.inf, -np.inf, 0.0, 1.0, -2.0],
                    [3.0, np.nan, -np.inf, np.inf, -0.0, 5.0]], np.float32)


def compare(op: str, sa, sb):
    def make():
        return graph([inp("a", sa), inp("b", sb), Node("y", op, ["a", "b"])], {})
    return make


def logic(op: str):
    def make():
        nodes = [inp("a", [2, 3, 4]), inp("b", [4]), Node("zero", "Constant"),
                 Node("pa", "Greater", ["a", "zero"]), Node("pb", "Less", ["b", "zero"]),
                 Node("y", op, ["pa", "pb"])]
        return graph(nodes, {"zero.value": np.array(0.0, np.float32)})
    return make


def not_case():
    nodes = [inp(), Node("p", "GreaterOrEqual", ["data", "data"]), Node("n", "Not", ["p"]),
             Node("q", "Less", ["data", "data"]), Node("y", "Equal", ["n", "q"])]
    return graph(nodes, {}, outputs=["n", "y"])


def clip_expanded():
    nodes = [inp(), Node("lo", "Constant"), Node("hi", "Constant"),
             Node("below", "Less", ["data", "lo"]), Node("above", "Less", ["hi", "data"]),
             Node("upper", "Where", ["above", "hi", "data"]),
             Node("y", "Where", ["below", "lo", "upper"])]
    return graph(nodes, {"lo.value": np.array([-0.5], np.float32),
                         "hi.value": np.array(0.5, np.float32)})


def where_bool_constant():
    nodes = [inp("x", [2, 3, 4]), inp("z", [4]), Node("mask", "Constant"),
             Node("y", "Where", ["mask", "x", "z"])]
    return graph(nodes, {"mask.value": RNG.random((3, 1)) < 0.5})


def mixed_types():
    """IR-lenient inputs that ONNX types strictly: an int64 constant compared with floats, a
    bool compared with a float, a float condition, float logic operands, int64 values."""
    nodes = [inp("x", [2, 5]), Node("k", "Constant"), Node("f", "Constant"),
             Node("ints", "Constant"),
             Node("lt", "Less", ["x", "k"]), Node("eq", "Equal", ["lt", "x"]),
             Node("gt", "Greater", ["lt", "eq"]),
             Node("and", "And", ["f", "lt"]), Node("not", "Not", ["x"]),
             Node("sel", "Where", ["x", "x", "ints"]), Node("isel", "Where", ["lt", "ints", "k"]),
             Node("nan", "IsNaN", ["ints"])]
    w = {"k.value": np.array(1, np.int64), "f.value": np.array([0.0, 1.0, 2.0, 0.0, 3.0],
                                                               np.float32),
         "ints.value": np.arange(5, dtype=np.int64)}
    return graph(nodes, w, outputs=["eq", "gt", "and", "not", "sel", "isel", "nan"])


def attention_mask():
    nodes = [inp("s", [2, 4, 6]), inp("bias", [4, 6]), Node("neg_inf", "Constant"),
             Node("zero", "Constant"), Node("row_max", "ReduceMax", ["bias"], {"axes": [-1]}),
             Node("masked", "Equal", ["row_max", "neg_inf"]),
             Node("added", "Add", ["s", "bias"]), Node("sm", "Softmax", ["added"], {"axis": -1}),
             Node("y", "Where", ["masked", "zero", "sm"])]
    return graph(nodes, {"neg_inf.value": np.array([-np.inf], np.float32),
                         "zero.value": np.array([0.0], np.float32)})


def cast_mask():
    """A bool mask made float32 and used in arithmetic; numbers cast to int64 and bool."""
    nodes = [inp("x", [2, 5]), Node("zero", "Constant"), Node("neg", "Less", ["x", "zero"]),
             Node("negf", "Cast", ["neg"], {"to": "float32"}),
             Node("y", "Mul", ["x", "negf"]),
             Node("i", "Cast", ["x"], {"to": "int64"}),
             Node("i32", "Cast", ["i"], {"to": "int32"}),
             Node("b", "Cast", ["x"], {"to": "bool"}), Node("nb", "Not", ["b"])]
    return graph(nodes, {"zero.value": np.array(0.0, np.float32)},
                 outputs=["y", "i", "i32", "nb"])


def special(op: str, attrs: dict | None = None):
    def make():
        return graph([inp("data", [2, 6]), Node("y", op, ["data"], dict(attrs or {}))], {})
    return make


CASES: dict[str, Callable] = {}
for _op in COMPARISONS:
    CASES[f"{_op}_same"] = compare(_op, [2, 3, 4], [2, 3, 4])
    CASES[f"{_op}_broadcast"] = compare(_op, [2, 1, 4], [3, 1])
for _op in LOGIC:
    CASES[_op] = logic(_op)
CASES |= {
    "not": not_case, "clip_expanded": clip_expanded, "where_bool_constant": where_bool_constant,
    "mixed_types": mixed_types, "attention_mask": attention_mask, "cast_mask": cast_mask,
    "isnan": special("IsNaN"), "isinf": special("IsInf"),
    "isinf_pos": special("IsInf", {"detect_negative": False}),
    "isinf_neg": special("IsInf", {"detect_positive": False}),
    "isinf_none": special("IsInf", {"detect_negative": False, "detect_positive": False}),
}


def feeds(g) -> dict[str, np.ndarray]:
    out = {}
    for n in g.inputs:
        a = RNG.integers(-2, 3, n.attrs["shape"]).astype(np.float32)   # many ties
        if n.attrs["shape"] == [2, 6]:
            a = SPECIAL.copy()
        if n.name == "bias":
            a[1] = -np.inf
            a[2, :3] = -np.inf
        out[n.name] = a
    return out


def run(g, w, tmp_path, opset):
    files = convert(g, w, tmp_path, opset=str(opset))
    x = feeds(g)
    outs, _ = BACKEND.run(Model(format="onnx", files=files, workdir=str(tmp_path)), x, [])
    return files, x, dict(outs)


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_logic_emitter_matches_reference(case, opset, tmp_path):
    g, w = CASES[case]()
    assert registry.validate(g) == []
    assert BACKEND.issues(g, opset) == []
    files, x, outs = run(g, w, tmp_path, opset)
    ref = registry.run_reference(g, w, x)
    assert list(outs) == g.output_refs()
    for k, v in outs.items():
        close(v, ref[k])


def test_bool_outputs_are_typed_bool(tmp_path):
    g, w = CASES["not"]()
    files, _, outs = run(g, w, tmp_path, 17)
    m = onnx.load(files[MODEL_ONNX])
    types = {o.name: o.type.tensor_type.elem_type for o in m.graph.output}
    assert set(types.values()) == {onnx.TensorProto.BOOL}
    assert all(v.dtype == np.bool_ for v in outs.values())
    ops = [n.op_type for n in m.graph.node]
    assert ops == ["GreaterOrEqual", "Not", "Less", "Equal"]       # no casts needed


def test_mixed_types_get_casts(tmp_path):
    g, w = CASES["mixed_types"]()
    files, _, _ = run(g, w, tmp_path, 17)
    m = onnx.load(files[MODEL_ONNX])
    casts = {n.name: onnx.helper.get_attribute_value(n.attribute[0])
             for n in m.graph.node if n.op_type == "Cast"}
    F, B = onnx.TensorProto.FLOAT, onnx.TensorProto.BOOL
    assert casts["lt/Cast"] == F                 # int64 constant compared with a float
    assert casts["eq/Cast"] == F                 # bool compared with a float
    assert sorted(v for k, v in casts.items() if k.startswith("gt/")) == [F, F]   # bool < bool
    assert casts["and/Cast"] == B and casts["not/Cast"] == B
    assert sorted(v for k, v in casts.items() if k.startswith("sel/")) == [F, B]
    assert not any(k.startswith("isel/") for k in casts)    # int64 values stay int64
    out_types = {o.name: o.type.tensor_type.elem_type for o in m.graph.output}
    assert out_types["isel"] == onnx.TensorProto.INT64 and out_types["sel"] == F


def test_isinf_attributes_are_ints(tmp_path):
    g, w = CASES["isinf_pos"]()
    files, _, _ = run(g, w, tmp_path, 17)
    (n,) = onnx.load(files[MODEL_ONNX]).graph.node
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
    assert attrs == {"detect_negative": 0, "detect_positive": 1}


def test_cast_output_types(tmp_path):
    g, w = CASES["cast_mask"]()
    files, _, outs = run(g, w, tmp_path, 17)
    m = onnx.load(files[MODEL_ONNX])
    T = onnx.TensorProto
    types = {o.name: o.type.tensor_type.elem_type for o in m.graph.output}
    assert types == {"y": T.FLOAT, "i": T.INT64, "i32": T.INT32, "nb": T.BOOL}
    assert [n.op_type for n in m.graph.node].count("Cast") == 4
    assert outs["i"].dtype == np.int64 and outs["i32"].dtype == np.int32
