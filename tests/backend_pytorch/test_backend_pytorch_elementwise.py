"""backend-pytorch, elementwise ops: generated code for small graphs matches the NumPy
reference (eval, TorchScript), trains, is ruff clean; Constant becomes a registered buffer that
is in the state_dict and loads with weights_only=True."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta_backend_pytorch import codegen
from nnrosetta_backend_pytorch.service import MODEL_PY, TORCHSCRIPT_PT, WEIGHTS_PTH, forget

from ._cases import RNG, graph, inp, rand, single
from .test_backend_pytorch_codegen import BACKEND, close, convert, load, ruff, run_eager

UNARY = ["Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin",
         "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Erf",
         "Softplus", "Softsign", "Mish", "HardSwish"]
# inputs mapped into the op's domain (feeds are standard normal)
DOMAIN: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Log": lambda a: np.abs(a) + 0.1,
    "Sqrt": lambda a: np.abs(a),
    "Reciprocal": lambda a: np.sign(a) * (np.abs(a) + 0.2),
    "Tan": lambda a: np.tanh(a) * 1.3,
    "Asin": np.tanh, "Acos": np.tanh, "Atanh": lambda a: np.tanh(a) * 0.99,
    "Acosh": lambda a: np.abs(a) + 1.0,
    "Round": lambda a: a * 4,
    "Floor": lambda a: a * 4,
    "Ceil": lambda a: a * 4,
}


def unary_case(op: str):
    def make():
        return graph([inp(), Node("y", op, ["data"])], {})
    return make


def two_inputs(op: str, sa, sb, positive_a: bool = False):
    def make():
        nodes = [inp("a", sa), inp("b", sb), Node("y", op, ["a", "b"])]
        return graph(nodes, {})
    make.positive = {"a"} if positive_a else set()
    return make


def with_constant(op: str, value: np.ndarray, first: bool = False):
    """Input and a Constant into a binary op."""
    def make():
        ins = ["c", "data"] if first else ["data", "c"]
        nodes = [inp(), Node("c", "Constant"), Node("y", op, ins)]
        return graph(nodes, {"c.value": value})
    return make


def variadic(op: str, shapes):
    def make():
        nodes = [inp(f"x{i}", s) for i, s in enumerate(shapes)]
        nodes.append(Node("y", op, [f"x{i}" for i in range(len(shapes))]))
        return graph(nodes, {})
    return make


def constant_chain():
    """Two float constants, an int64 exponent, a constant that is also a graph output."""
    nodes = [inp(), Node("scale/const", "Constant"), Node("offset", "Constant"),
             Node("two", "Constant"), Node("mul", "Mul", ["data", "scale/const"]),
             Node("sub", "Sub", ["mul", "offset"]), Node("pow", "Pow", ["sub", "two"]),
             Node("mean", "Mean", ["pow", "offset", "data"])]
    w = {"scale/const.value": rand(3, 1, 1), "offset.value": rand(8),
         "two.value": np.array(2, np.int64)}
    return graph(nodes, w, outputs=["mean", "offset"])


CASES: dict[str, Callable] = {f"unary_{op}": unary_case(op) for op in UNARY}
CASES |= {
    "hard_sigmoid": single("HardSigmoid"),
    "hard_sigmoid_torch": single("HardSigmoid", {"alpha": 1 / 6, "beta": 0.5}),
    "selu": single("Selu"),
    "selu_custom": single("Selu", {"alpha": 2.0, "gamma": 1.5}),
    "celu": single("Celu", {"alpha": 0.5}),
    "thresholded_relu": single("ThresholdedRelu", {"alpha": 0.3}),
    "gelu": single("Gelu"),
    "gelu_tanh": single("Gelu", {"approximate": "tanh"}),
    "clip_none": single("Clip"),
    "clip_relu6": single("Clip", {"min": 0.0, "max": 6.0}),
    "clip_min": single("Clip", {"min": -0.5}),
    "clip_both": single("Clip", {"min": -0.5, "max": 0.25}),
    "shrink_hard": single("Shrink"),
    "shrink_soft": single("Shrink", {"bias": 0.7, "lambd": 0.7}),
    "shrink_custom": single("Shrink", {"bias": 0.2, "lambd": 1.0}),
    "shrink_negative_lambd": single("Shrink", {"bias": 0.2, "lambd": -1.0}),
    "sub_same": two_inputs("Sub", [2, 3, 8, 8], [2, 3, 8, 8]),
    "sub_broadcast": two_inputs("Sub", [2, 3, 8, 8], [3, 1, 1]),
    "div_broadcast": two_inputs("Div", [2, 1, 8], [3, 1]),
    "pow_broadcast": two_inputs("Pow", [2, 3, 8, 8], [8], positive_a=True),
    "sub_constant_first": with_constant("Sub", rand(8), first=True),
    "div_constant": with_constant("Div", rand(3, 1, 1, lo=0.5)),
    "pow_int_constant": with_constant("Pow", np.array(3, np.int64)),
    "min": variadic("Min", [[2, 3, 4], [3, 1], [4]]),
    "min_one": variadic("Min", [[2, 3]]),
    "sum": variadic("Sum", [[2, 3, 4], [1, 4], [2, 1, 1]]),
    "sum_one": variadic("Sum", [[2, 3]]),
    "mean": variadic("Mean", [[2, 3, 4], [3, 4], [2, 3, 4], [1]]),
    "mean_one": variadic("Mean", [[2, 3]]),
    # the existing variadic ops broadcast too
    "add_broadcast": variadic("Add", [[2, 3, 4, 4], [3, 1, 1]]),
    "mul_broadcast": variadic("Mul", [[2, 3, 4, 4], [4], [2, 1, 1, 1]]),
    "max_broadcast": variadic("Max", [[1, 3, 1], [2, 1, 5]]),
    "constant_chain": constant_chain,
}


def feeds(g, case_fn) -> dict[str, np.ndarray]:
    out = {}
    positive = getattr(case_fn, "positive", set())
    for n in g.inputs:
        a = RNG.standard_normal([d if d > 0 else 1 for d in n.attrs["shape"]]).astype(np.float32)
        if n.name in positive:
            a = np.abs(a) + 0.1
        for node in g.nodes:
            if node.inputs == [n.name] and node.op in DOMAIN:
                a = DOMAIN[node.op](a).astype(np.float32)
        out[n.name] = a
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_elementwise_op(case, tmp_path):
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
            assert not np.isnan(r).any()
            close(o.numpy(), r)
        ts = torch.jit.load(files[TORCHSCRIPT_PT])
        with torch.no_grad():
            tout = ts(*[torch.from_numpy(x[n].copy()) for n in mod.INPUTS])
        touts = tout if isinstance(tout, tuple) else (tout,)
        for a, b in zip(touts, outs, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
        model.train()
        args = [torch.from_numpy(x[n].copy()).requires_grad_(True) for n in mod.INPUTS]
        out = model(*args)
        outs = out if isinstance(out, tuple) else (out,)
        sum(o.float().sum() for o in outs).backward()
        assert any(a.grad is not None for a in args)
    finally:
        forget(mod)


def _source(case, tmp_path) -> str:
    g, w = CASES[case]()
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    return Path(files[MODEL_PY]).read_text()


@pytest.mark.parametrize("case,expected", [
    ("unary_Exp", "y = torch.exp(data)"),
    ("unary_Neg", "y = -data"),
    ("unary_Mish", "self.y = nn.Mish()"),
    ("hard_sigmoid", "n = torch.clamp(data * 0.2 + 0.5, 0.0, 1.0)"),
    ("hard_sigmoid_torch", "self.n = nn.Hardsigmoid()"),
    ("selu", "self.n = nn.SELU()"),
    ("selu_custom", "n = 1.5 * F.elu(data, alpha=2.0)"),
    ("celu", "self.n = nn.CELU(alpha=0.5)"),
    ("thresholded_relu", "self.n = nn.Threshold(0.3, 0.0)"),
    ("gelu", "self.n = nn.GELU()"),
    ("gelu_tanh", 'self.n = nn.GELU(approximate="tanh")'),
    ("clip_relu6", "self.n = nn.ReLU6()"),
    ("clip_min", "n = torch.clamp(data, min=-0.5)"),
    ("clip_both", "n = torch.clamp(data, min=-0.5, max=0.25)"),
    ("shrink_hard", "self.n = nn.Hardshrink(lambd=0.5)"),
    ("shrink_soft", "self.n = nn.Softshrink(lambd=0.7)"),
    ("sub_broadcast", "y = a - b"),
    ("div_broadcast", "y = a / b"),
    ("pow_broadcast", "y = a ** b"),
    ("min", "y = torch.minimum(torch.minimum(x0, x1), x2)"),
    ("sum", "y = x0 + x1 + x2"),
    ("mean", "y = (x0 + x1 + x2 + x3) / 4"),
])
def test_readable_code(case, expected, tmp_path):
    assert expected in _source(case, tmp_path)


def test_constant_is_a_buffer_in_the_state_dict(tmp_path):
    g, w = CASES["constant_chain"]()
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    src = Path(files[MODEL_PY]).read_text()
    assert 'self.register_buffer("scale_const", torch.zeros([3, 1, 1], dtype=torch.float32))' \
        in src
    assert 'self.register_buffer("two", torch.zeros([], dtype=torch.int64))' in src
    assert "scale_const = self.scale_const" in src
    state = torch.load(files[WEIGHTS_PTH], weights_only=True)
    assert set(state) == {"scale_const", "offset", "two"}
    assert state["two"].dtype == torch.int64 and int(state["two"]) == 2
    np.testing.assert_array_equal(state["offset"].numpy(), w["offset.value"])
    mod = codegen_import(files[MODEL_PY])
    try:
        model = mod.Model()
        assert set(model.state_dict()) == set(state)
        assert [n for n, _ in model.named_buffers()] == ["scale_const", "offset", "two"]
        assert list(model.parameters()) == []
        model.load_state_dict(state, strict=True)
        np.testing.assert_array_equal(model.scale_const.numpy(), w["scale/const.value"])
    finally:
        forget(mod)


def codegen_import(path):
    from nnrosetta_backend_pytorch.service import import_generated
    return import_generated(path)


def test_constant_float64_stored_as_float32_and_shape_only_run(tmp_path):
    """A float64 constant is stored as float32 (like every floating weight); the Run path
    that regenerates code from weight shapes alone (use_kept) fits the saved state_dict."""
    nodes = [inp(), Node("c", "Constant"), Node("y", "Add", ["data", "c"])]
    g, w = graph(nodes, {"c.value": RNG.standard_normal((3, 1, 1))})
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    state = torch.load(files[WEIGHTS_PTH], weights_only=True)
    assert state["c"].dtype == torch.float32
    from nnrosetta_backend_pytorch.service import _ShapeOnlyWeights
    gen = codegen.generate(g, _ShapeOnlyWeights(g))
    assert {k: tuple(v.shape) for k, v in gen.state.items()} == {"c": (3, 1, 1)}


def test_constant_checks():
    nodes = [inp(), Node("c", "Constant"), Node("y", "Add", ["data", "c"])]
    g, _ = graph(nodes, {"c.value": np.zeros(3, np.complex64)})
    assert [(i.location, i.code) for i in BACKEND.issues(g)] == [("c", "UNSUPPORTED_OP")]
    assert "no torch dtype" in BACKEND.issues(g)[0].message
    g, _ = graph(nodes, {})
    assert "missing" in BACKEND.issues(g)[0].message
    g, _ = graph([inp(), Node("n", "Celu", ["data"], {"alpha": 0.0})], {})
    assert "alpha" in BACKEND.issues(g)[0].message
