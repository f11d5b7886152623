"""backend-pytorch, comparison and logic ops: the generated code for small graphs matches the
NumPy reference exactly (eager and TorchScript), reads as plain tensor expressions
(``a < b``, ``~c``, ``a & b``, ``torch.where``, ``x.to(torch.float32)`` for Cast), is
ruff clean, and keeps bool constants as bool buffers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta_backend_pytorch.service import MODEL_PY, TORCHSCRIPT_PT, WEIGHTS_PTH, forget

from ._cases import graph, inp
from .test_backend_pytorch_codegen import BACKEND, convert, load, ruff, run_eager

RNG = np.random.default_rng(77)
COMPARISONS = ["Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Equal"]
LOGIC = ["And", "Or", "Xor"]


def compare(op: str, sa, sb):
    def make():
        return graph([inp("a", sa), inp("b", sb), Node("y", op, ["a", "b"])], {})
    return make


def logic(op: str, sa, sb):
    """Bool operands made by comparisons of the float inputs with 0."""
    def make():
        nodes = [inp("a", sa), inp("b", sb), Node("zero", "Constant"),
                 Node("pa", "Greater", ["a", "zero"]), Node("pb", "Less", ["b", "zero"]),
                 Node("y", op, ["pa", "pb"])]
        return graph(nodes, {"zero.value": np.array(0.0, np.float32)})
    return make


def not_case():
    nodes = [inp(), Node("p", "GreaterOrEqual", ["data", "data"]), Node("n", "Not", ["p"]),
             Node("q", "Less", ["data", "data"]), Node("y", "Equal", ["n", "q"])]
    return graph(nodes, {}, outputs=["n", "y"])


def clip_expanded():
    """ONNX's Clip function body: Where(Less(x, min), min, Where(Less(max, x), max, x))."""
    nodes = [inp(), Node("lo", "Constant"), Node("hi", "Constant"),
             Node("below", "Less", ["data", "lo"]), Node("above", "Less", ["hi", "data"]),
             Node("upper", "Where", ["above", "hi", "data"]),
             Node("y", "Where", ["below", "lo", "upper"])]
    return graph(nodes, {"lo.value": np.array([-0.5], np.float32),
                         "hi.value": np.array(0.5, np.float32)})


def where_bool_constant():
    """A bool Constant condition (a buffer of dtype bool) and broadcasting values."""
    nodes = [inp("x", [2, 3, 4]), inp("z", [4]), Node("mask", "Constant"),
             Node("y", "Where", ["mask", "x", "z"])]
    return graph(nodes, {"mask.value": RNG.random((3, 1)) < 0.5})


def attention_mask():
    """Attention's expanded guard: rows whose bias max is -inf get probability 0."""
    nodes = [inp("s", [2, 4, 6]), inp("bias", [4, 6]), Node("neg_inf", "Constant"),
             Node("zero", "Constant"), Node("row_max", "ReduceMax", ["bias"], {"axes": [-1]}),
             Node("masked", "Equal", ["row_max", "neg_inf"]),
             Node("added", "Add", ["s", "bias"]), Node("sm", "Softmax", ["added"], {"axis": -1}),
             Node("y", "Where", ["masked", "zero", "sm"])]
    return graph(nodes, {"neg_inf.value": np.array([-np.inf], np.float32),
                         "zero.value": np.array([0.0], np.float32)})


def cast_mask():
    """A bool mask made float32 and used in arithmetic; numbers cast to int64 and bool."""
    nodes = [inp(), Node("zero", "Constant"), Node("neg", "Less", ["data", "zero"]),
             Node("negf", "Cast", ["neg"], {"to": "float32"}),
             Node("y", "Mul", ["data", "negf"]),
             Node("i", "Cast", ["data"], {"to": "int64"}),
             Node("b", "Cast", ["data"], {"to": "bool"}), Node("nb", "Not", ["b"])]
    return graph(nodes, {"zero.value": np.array(0.0, np.float32)}, outputs=["y", "i", "nb"])


def special_values(op: str, attrs: dict | None = None):
    def make():
        return graph([inp("data", [2, 6]), Node("y", op, ["data"], dict(attrs or {}))], {})
    make.special = True
    return make


CASES: dict[str, Callable] = {}
for _op in COMPARISONS:
    CASES[f"{_op}_same"] = compare(_op, [2, 3, 4], [2, 3, 4])
    CASES[f"{_op}_broadcast"] = compare(_op, [2, 1, 4], [3, 1])
for _op in LOGIC:
    CASES[f"{_op}_broadcast"] = logic(_op, [2, 3, 4], [4])
CASES |= {
    "not": not_case,
    "clip_expanded": clip_expanded,
    "where_bool_constant": where_bool_constant,
    "attention_mask": attention_mask,
    "cast_mask": cast_mask,
    "isnan": special_values("IsNaN"),
    "isinf": special_values("IsInf"),
    "isinf_pos": special_values("IsInf", {"detect_negative": False}),
    "isinf_neg": special_values("IsInf", {"detect_positive": False}),
    "isinf_none": special_values("IsInf", {"detect_negative": False, "detect_positive": False}),
}


def feeds(g, case_fn) -> dict[str, np.ndarray]:
    out = {}
    for n in g.inputs:
        shape = [d if d > 0 else 1 for d in n.attrs["shape"]]
        a = RNG.integers(-2, 3, shape).astype(np.float32)    # many ties
        if getattr(case_fn, "special", False):
            a = np.array([[np.nan, np.inf, -np.inf, 0.0, 1.0, -2.0],
                          [3.0, np.nan, -np.inf, np.inf, -0.0, 5.0]], np.float32)
        if n.name == "bias":
            a[1] = -np.inf                                     # one fully masked row
            a[2, :3] = -np.inf
        out[n.name] = a
    return out


def exact(got: np.ndarray, ref: np.ndarray) -> None:
    assert got.dtype == ref.dtype, (got.dtype, ref.dtype)
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-7) if ref.dtype.kind == "f" \
        else np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("case", sorted(CASES))
def test_logic_op(case, tmp_path):
    g, w = CASES[case]()
    assert registry.validate(g) == [], registry.validate(g)
    assert BACKEND.issues(g) == []
    files = convert(g, w, tmp_path)
    assert set(files) - {"_stages"} == {MODEL_PY, WEIGHTS_PTH, TORCHSCRIPT_PT}
    ruff(files[MODEL_PY])
    x = feeds(g, CASES[case])
    ref = registry.run_reference(g, w, x)
    mod, model = load(files)
    try:
        model.eval()
        out = run_eager(mod, model, x)
        outs = out if isinstance(out, tuple) else (out,)
        assert list(mod.OUTPUTS) == g.output_refs() and len(outs) == len(ref)
        for o, r in zip(outs, ref.values(), strict=True):
            exact(o.numpy(), r)
        ts = torch.jit.load(files[TORCHSCRIPT_PT])
        with torch.no_grad():
            tout = ts(*[torch.from_numpy(x[n].copy()) for n in mod.INPUTS])
        touts = tout if isinstance(tout, tuple) else (tout,)
        for a, b in zip(touts, outs, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    finally:
        forget(mod)


def _source(case, tmp_path) -> str:
    g, w = CASES[case]()
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    return Path(files[MODEL_PY]).read_text()


@pytest.mark.parametrize("case,expected", [
    ("Less_same", "y = a < b"),
    ("LessOrEqual_same", "y = a <= b"),
    ("Greater_broadcast", "y = a > b"),
    ("GreaterOrEqual_same", "y = a >= b"),
    ("Equal_same", "y = a == b"),
    ("And_broadcast", "y = pa & pb"),
    ("Or_broadcast", "y = pa | pb"),
    ("Xor_broadcast", "y = pa ^ pb"),
    ("not", "n = ~p"),
    ("clip_expanded", "y = torch.where(below, lo, upper)"),
    ("isnan", "y = torch.isnan(data)"),
    ("cast_mask", "negf = neg.to(torch.float32)"),
    ("cast_mask", "i = data.to(torch.int64)"),
    ("isinf", "y = torch.isinf(data)"),
    ("isinf_pos", "y = torch.isposinf(data)"),
    ("isinf_neg", "y = torch.isneginf(data)"),
    ("isinf_none", "y = torch.zeros_like(data, dtype=torch.bool)"),
])
def test_readable_code(case, expected, tmp_path):
    assert expected in _source(case, tmp_path)


def test_bool_constant_is_a_bool_buffer(tmp_path):
    g, w = CASES["where_bool_constant"]()
    src = _source("where_bool_constant", tmp_path)
    assert 'self.register_buffer("mask", torch.zeros([3, 1], dtype=torch.bool))' in src
    (tmp_path / "w").mkdir()
    files = convert(g, w, tmp_path / "w")
    state = torch.load(files[WEIGHTS_PTH], weights_only=True)
    assert state["mask"].dtype == torch.bool
    np.testing.assert_array_equal(state["mask"].numpy(), w["mask.value"])
