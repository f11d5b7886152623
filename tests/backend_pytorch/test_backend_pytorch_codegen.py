"""backend-pytorch: every op's generated code runs (eval and train), matches the NumPy reference,
scripts to TorchScript, loads its weights strictly, and is ruff clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta_backend_pytorch import codegen, emitters
from nnrosetta_backend_pytorch.service import (
    MODEL_PY,
    TORCHSCRIPT_PT,
    WEIGHTS_PTH,
    PyTorchBackend,
    forget,
    import_generated,
)

from ._cases import CASES, feeds, graph, inp, rand

RUFF = Path(sys.executable).with_name("ruff")
BACKEND = PyTorchBackend()


def convert(g, w, tmp_path, options=None) -> dict[str, str]:
    files = {}
    stages = []
    for item in BACKEND.from_ir(g, w, options or {}, str(tmp_path)):
        if hasattr(item, "stage"):
            stages.append(item.stage)
        else:
            files[item[0]] = item[1]
    files["_stages"] = stages
    return files


def load(files):
    mod = import_generated(files[MODEL_PY])
    model = mod.Model()
    state = torch.load(files[WEIGHTS_PTH], weights_only=True)
    model.load_state_dict(state, strict=True)
    return mod, model


def run_eager(mod, model, x: dict[str, np.ndarray]):
    args = [torch.from_numpy(x[n].copy()) for n in mod.INPUTS]
    with torch.no_grad():
        out = model(*args)
    return out


def close(a: np.ndarray, ref: np.ndarray, rel: float = 1e-5) -> None:
    assert a.shape == ref.shape, (a.shape, ref.shape)
    scale = max(float(np.max(np.abs(ref))) if ref.size else 0.0, 1.0)
    err = float(np.max(np.abs(a.astype(np.float64) - ref))) if ref.size else 0.0
    assert err <= rel * scale, f"max abs error {err} > {rel} * {scale}"


def ruff(path: str) -> None:
    r = subprocess.run([str(RUFF), "check", "--isolated", "--no-cache", "--line-length", "100",
                        "--select", "E,F,W,I,B,UP", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr + Path(path).read_text()
    r = subprocess.run([sys.executable, "-m", "py_compile", path], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


def test_emitter_keys_are_ir_ops():
    assert emitters.not_in_ir_registry() == []
    assert set(emitters.supported_ops()) == set(emitters.all_emitters())


def test_every_ir_op_has_an_emitter():
    missing = sorted(set(registry.all_ops()) - set(emitters.all_emitters()))
    assert missing == [], f"IR ops without a PyTorch emitter: {missing}"


def test_duplicate_emitter_refused():
    with pytest.raises(ValueError, match="twice"):
        emitters.emitter("Relu")(lambda e: None)


@pytest.mark.parametrize("case", sorted(CASES))
def test_op(case, tmp_path):
    g, w = CASES[case]()
    assert registry.validate(g) == [], registry.validate(g)
    assert BACKEND.issues(g) == []
    files = convert(g, w, tmp_path)
    assert files["_stages"][0] == "codegen" and "torchscript" in files["_stages"]
    assert set(files) - {"_stages"} == {MODEL_PY, WEIGHTS_PTH, TORCHSCRIPT_PT}
    ruff(files[MODEL_PY])
    x = feeds(g)
    ref = registry.run_reference(g, w, x)
    mod, model = load(files)
    try:
        # eval: matches the NumPy reference
        model.eval()
        out = run_eager(mod, model, x)
        outs = out if isinstance(out, tuple) else (out,)
        assert list(mod.OUTPUTS) == g.output_refs()
        assert len(outs) == len(ref)
        for o, (name, r) in zip(outs, ref.items(), strict=True):
            close(o.numpy(), r), name
        # TorchScript equals eager
        ts = torch.jit.load(files[TORCHSCRIPT_PT])
        with torch.no_grad():
            tout = ts(*[torch.from_numpy(x[n].copy()) for n in mod.INPUTS])
        touts = tout if isinstance(tout, tuple) else (tout,)
        for a, b in zip(touts, outs, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
        # train mode: forward and backward work, gradients reach parameters and inputs
        model.train()
        args = [torch.from_numpy(x[n].copy()).requires_grad_(True) for n in mod.INPUTS]
        out = model(*args)
        outs = out if isinstance(out, tuple) else (out,)
        sum(o.float().sum() for o in outs).backward()
        for p in model.parameters():
            assert p.grad is not None
        assert any(a.grad is not None for a in args)
    finally:
        forget(mod)


def test_training_semantics(tmp_path):
    g, w = CASES["caffe_like"]()
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    mod, model = load(files)
    try:
        assert isinstance(model.drop, torch.nn.Dropout) and model.drop.p == pytest.approx(0.4)
        assert isinstance(model.bn, torch.nn.BatchNorm2d) and model.bn.affine
        before = model.bn.running_mean.clone()
        model.train()
        x = torch.randn(4, 3, 8, 8)
        a, b = model(x), model(x)
        assert not torch.equal(a, b)  # dropout is active
        assert not torch.equal(before, model.bn.running_mean)  # BN updates its statistics
        assert int(model.bn.num_batches_tracked) == 2
    finally:
        forget(mod)


def test_batch_norm_args(tmp_path):
    g, w = CASES["batch_norm"]()
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    src = Path(files[MODEL_PY]).read_text()
    assert "nn.BatchNorm2d(3, eps=0.001, momentum=0.01)" in src
    g, w = CASES["batch_norm_plain"]()
    (tmp_path / "plain").mkdir()
    files = convert(g, w, tmp_path / "plain", {"artifacts": "code"})
    assert "affine=False" in Path(files[MODEL_PY]).read_text()


def test_artifacts_option(tmp_path):
    g, w = CASES["conv"]()
    for opt, want in [("code", {MODEL_PY, WEIGHTS_PTH}),
                      ("model", {WEIGHTS_PTH, TORCHSCRIPT_PT}),
                      ("all", {MODEL_PY, WEIGHTS_PTH, TORCHSCRIPT_PT})]:
        d = tmp_path / opt
        d.mkdir()
        files = convert(g, w, d, {"artifacts": opt})
        assert set(files) - {"_stages"} == want, opt
    with pytest.raises(Exception, match="artifacts"):
        convert(g, w, tmp_path, {"artifacts": "nope"})


def test_state_dict_weights_only_strict(tmp_path):
    g, w = CASES["caffe_like"]()
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    state = torch.load(files[WEIGHTS_PTH], weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    assert "conv1_7x7_s2.weight" in state and "loss3_classifier.bias" in state
    np.testing.assert_array_equal(state["inception_3a_1x1.weight"].numpy(),
                                  w["inception_3a/1x1.weight"])
    mod = import_generated(files[MODEL_PY])
    try:
        model = mod.Model()
        assert set(model.state_dict()) == set(state)
        model.load_state_dict(state, strict=True)
    finally:
        forget(mod)


def test_names_sanitised_and_unique():
    nt = codegen.NameTable()
    assert nt.new("inception_3a/1x1") == "inception_3a_1x1"
    assert nt.new("inception_3a_1x1") == "inception_3a_1x1_2"
    assert nt.new("inception_3a/1x1") == "inception_3a_1x1_3"
    assert nt.new("1conv") == "n1conv"
    assert nt.new("class") == "class_2"
    assert nt.new("input") == "input_2"
    assert nt.new("a-b.c d") == "a_b_c_d"
    assert nt.new("///") == "node"


def test_colliding_names_generate_valid_code(tmp_path):
    nodes = [inp("input"), Node("conv/a", "Relu", ["input"]), Node("conv_a", "Tanh", ["conv/a"]),
             Node("forward", "Sigmoid", ["conv_a"]), Node("training", "Dropout", ["forward"]),
             Node("self", "Abs", ["training"]), Node("l", "Relu", ["self"])]
    g, w = graph(nodes, {})
    files = convert(g, w, tmp_path)
    ruff(files[MODEL_PY])
    x = feeds(g)
    mod, model = load(files)
    try:
        model.eval()
        close(run_eager(mod, model, x).numpy(), registry.run_reference(g, w, x)["l"])
    finally:
        forget(mod)


def test_multi_output_tuple_in_order(tmp_path):
    nodes = [inp(), Node("a", "Relu", ["data"]), Node("b", "Tanh", ["data"]),
             Node("c", "Sigmoid", ["data"])]
    g, w = graph(nodes, {}, outputs=["c", "a", "b"])
    files = convert(g, w, tmp_path)
    x = feeds(g)
    mod, model = load(files)
    try:
        model.eval()
        out = run_eager(mod, model, x)
        assert isinstance(out, tuple) and len(out) == 3
        assert mod.OUTPUTS == ["c", "a", "b"]
        ref = registry.run_reference(g, w, x)
        for o, name in zip(out, ["c", "a", "b"], strict=True):
            close(o.numpy(), ref[name])
    finally:
        forget(mod)


def test_two_inputs_in_input_order(tmp_path):
    nodes = [inp("b_in", [1, 2, 3, 3]), inp("a_in", [1, 2, 3, 3]),
             Node("diff", "Add", ["a_in", "b_in"], {"coeffs": [1.0, -1.0]})]
    g, w = graph(nodes, {})
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    src = Path(files[MODEL_PY]).read_text()
    assert "def forward(self, b_in, a_in):" in src


def test_header_docstring(tmp_path):
    g, w = CASES["caffe_like"]()
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    src = Path(files[MODEL_PY]).read_text()
    head = src.split('"""')[1]
    assert "framework: caffe" in head and "weights_only=True" in head
    assert "class Model(nn.Module):" in src
    assert "nn.MaxPool2d(kernel_size=3, stride=2, padding=0, ceil_mode=True)" in src
    assert "torch.cat([inception_3a_1x1, inception_3a_3x3], dim=1)" in src


def test_long_names_wrap(tmp_path):
    names = [f"very/long/branch/name/number_{i}/with/more/words" for i in range(6)]
    nodes = [inp()] + [Node(n, "Relu", ["data"]) for n in names]
    nodes.append(Node("concatenation/of/all/the/branches", "Concat", names))
    g, w = graph(nodes, {})
    files = convert(g, w, tmp_path)
    ruff(files[MODEL_PY])


def test_check_lists_every_unsupported_node():
    nodes = [inp(), Node("weird1", "FancyOp", ["data"]), Node("ok", "Relu", ["weird1"]),
             Node("weird2", "OtherOp", ["ok"]),
             Node("pool4d", "Pool", ["weird2"],
                  {"mode": "max", "kernel_shape": [2, 2, 2, 2]})]
    g, _ = graph(nodes, {})
    from nnrosetta.rpc.converter import Model
    issues, out = BACKEND.check(Model(format="ir", graph=g))
    assert out is None
    assert [i.location for i in issues] == ["weird1", "weird2", "pool4d"]
    assert all(i.code == "UNSUPPORTED_OP" for i in issues)
    issues, _ = BACKEND.check(Model(format="caffe"))
    assert issues and issues[0].code == "BAD_FORMAT"


def test_describe():
    d = BACKEND.describe()
    assert d["framework"] == "pytorch" and d["framework_version"] == torch.__version__
    assert d["runtime"] == f"torch {torch.__version__}"
    assert {"torch", "numpy", "protobuf", "grpcio"} <= set(d["versions"])
    assert "Conv" in d["ops_supported"] and d["reads"] == ["ir"] and d["writes"] == ["pytorch"]


def test_reference_tolerance_helper():
    close(np.ones(3, np.float32), np.ones(3))
    with pytest.raises(AssertionError):
        close(np.ones(3, np.float32) * 1.001, np.ones(3))


def test_generated_weights_float32(tmp_path):
    nodes = [inp(), Node("fc", "FullyConnected", ["data"])]
    g, w = graph(nodes, {"fc.weight": rand(2, 192).astype(np.float64)})
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    state = torch.load(files[WEIGHTS_PTH], weights_only=True)
    assert state["fc.weight"].dtype == torch.float32
    assert os.path.getsize(files[WEIGHTS_PTH]) > 0


def test_dead_nodes_and_unread_split_outputs(tmp_path):
    nodes = [inp(), Node("sp", "Split", ["data"], {"split": [1, 1, 1]}),
             Node("used", "Relu", ["sp:2"]), Node("dead", "Tanh", ["sp"]),
             Node("fc_dead", "FullyConnected", ["dead"])]
    g, w = graph(nodes, {"fc_dead.weight": rand(2, 64)}, outputs=["used"])
    files = convert(g, w, tmp_path)
    ruff(files[MODEL_PY])
    src = Path(files[MODEL_PY]).read_text()
    assert "Left out 2 node(s)" in src and "fc_dead" not in src.split('"""', 2)[2]
    x = feeds(g)
    mod, model = load(files)
    try:
        model.eval()
        close(run_eager(mod, model, x).numpy(), registry.run_reference(g, w, x)["used"])
    finally:
        forget(mod)
