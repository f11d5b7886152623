"""backend-pytorch emitters of the structure, reduction and normalization ops (MatMul ..
SpaceToDepth): generated code is ruff clean, matches the NumPy reference in eval mode, scripts
to TorchScript with the same results, runs in train mode, and reads as intended."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta_backend_pytorch.service import MODEL_PY, TORCHSCRIPT_PT, forget

from ._cases import feeds, graph, inp, rand, single
from .test_backend_pytorch_codegen import BACKEND, close, convert, load, ruff, run_eager

INT_MAX = 2**63 - 1


def two(op: str, a, b, attrs=None, extra=None):
    """Two graph inputs (and an optional third) into one node."""
    def make():
        shapes = [a, b] + ([extra] if extra else [])
        nodes = [inp(f"x{i}", s) for i, s in enumerate(shapes)]
        nodes.append(Node("y", op, [f"x{i}" for i in range(len(shapes))], dict(attrs or {})))
        return graph(nodes, {})
    return make


def gather(axis: int, indices) -> callable:
    def make():
        idx = np.array(indices, np.int64)
        nodes = [inp(), Node("idx", "Constant", []), Node("g", "Gather", ["data", "idx"],
                                                          {"axis": axis})]
        return graph(nodes, {"idx.value": idx}, outputs=["g"])
    return make


def matmul_const_weight():
    """x @ W with W a Constant (how an ONNX MatMul with an initializer arrives)."""
    nodes = [inp(shape=[2, 5, 6]), Node("w", "Constant", []),
             Node("mm", "MatMul", ["data", "w"])]
    return graph(nodes, {"w.value": rand(6, 4)}, outputs=["mm"])


def transformer_block():
    """LayerNorm -> attention-like MatMuls with Transpose/Softmax -> Gemm-free projection."""
    w = {"ln.scale": rand(8), "ln.bias": rand(8), "wq.value": rand(8, 8),
         "wk.value": rand(8, 8)}
    nodes = [inp(shape=[2, 5, 8]), Node("ln", "LayerNormalization", ["data"]),
             Node("wq", "Constant", []), Node("wk", "Constant", []),
             Node("q", "MatMul", ["ln", "wq"]), Node("k", "MatMul", ["ln", "wk"]),
             Node("kt", "Transpose", ["k"], {"perm": [0, 2, 1]}),
             Node("scores", "MatMul", ["q", "kt"]),
             Node("attn", "LogSoftmax", ["scores"], {"axis": -1}),
             Node("mix", "MatMul", ["attn", "ln"]),
             Node("pooled", "ReduceMean", ["mix"], {"axes": [1], "keepdims": False})]
    return graph(nodes, w, outputs=["pooled"])


X = [2, 3, 8, 8]
CASES = {
    "matmul": two("MatMul", [2, 3, 4], [4, 5]),
    "matmul_vec": two("MatMul", [4], [2, 4, 3]),
    "matmul_const": matmul_const_weight,
    "gemm": two("Gemm", [3, 4], [5, 4], {"transB": True, "alpha": 0.5, "beta": 2.0}, [5]),
    "gemm_no_c": two("Gemm", [4, 3], [4, 5], {"transA": True}),
    "transpose": single("Transpose", {"perm": [0, 2, 3, 1]}),
    "transpose_reverse": single("Transpose", {}),
    "squeeze": single("Squeeze", {"axes": [0, -2]}, shape=[1, 3, 1, 8]),
    "squeeze_all": single("Squeeze", {}, shape=[2, 1, 8, 1]),
    "unsqueeze": single("Unsqueeze", {"axes": [-1, 0]}),
    "slice": single("Slice", {"starts": [1, 0], "ends": [3, INT_MAX], "axes": [1, 3],
                              "steps": [1, 3]}),
    "slice_negative_step": single("Slice", {"starts": [-1, 6, 0], "ends": [-INT_MAX, 1, 2],
                                            "axes": [1, 2, 0], "steps": [-1, -2, 1]}),
    "slice_empty": single("Slice", {"starts": [5], "ends": [2], "axes": [3]}),
    "gather": gather(1, [2, 0, -1]),
    "gather_2d_indices": gather(-1, [[0, 7], [-2, 3]]),
    "gather_scalar": gather(0, 1),
    "pad_constant": single("Pad", {"pads": [0, 1, 2, 0, 0, 0, 1, 3], "value": 0.5}),
    "pad_crop": single("Pad", {"pads": [0, 0, -1, 2, 0, 0, 1, -2]}),
    "pad_reflect": single("Pad", {"pads": [0, 0, 2, 1, 0, 0, 1, 3], "mode": "reflect"}),
    "pad_edge": single("Pad", {"pads": [0, 0, 0, 9, 0, 0, 0, 1], "mode": "edge"}),
    "pad_wrap": single("Pad", {"pads": [0, 0, 2, 1, 0, 0, 1, 3], "mode": "wrap"}),
    "pad_reflect_3d": single("Pad", {"pads": [0, 1, 1, 0, 2, 1], "mode": "reflect"},
                             shape=[2, 5, 6]),
    "reduce_sum": single("ReduceSum", {"axes": [2, 3]}),
    "reduce_mean_all": single("ReduceMean", {"keepdims": False}),
    "reduce_max": single("ReduceMax", {"axes": [1], "keepdims": False}),
    "reduce_min": single("ReduceMin", {"axes": [-1]}),
    "reduce_prod": single("ReduceProd", {"axes": [1, 3], "keepdims": False}),
    "reduce_prod_all": single("ReduceProd", {"keepdims": False}, shape=[2, 3]),
    "reduce_l1": single("ReduceL1", {"axes": [1]}),
    "reduce_l2": single("ReduceL2", {"axes": [2, 3], "keepdims": False}),
    "reduce_log_sum_exp": single("ReduceLogSumExp", {"keepdims": False}),
    "reduce_sum_square": single("ReduceSumSquare", {"axes": [0, 1]}),
    "reduce_noop": single("ReduceSum", {"noop_with_empty_axes": True}),
    "log_softmax": single("LogSoftmax", {"axis": 1}),
    "instance_norm": single("InstanceNormalization", {"epsilon": 1e-3},
                            {"scale": lambda: rand(3), "bias": lambda: rand(3)}),
    "instance_norm_1d": single("InstanceNormalization", {},
                               {"scale": lambda: rand(3), "bias": lambda: rand(3)},
                               shape=[2, 3, 10]),
    "layer_norm": single("LayerNormalization", {"axis": 2},
                         {"scale": lambda: rand(8, 8), "bias": lambda: rand(8, 8)}),
    "layer_norm_no_bias_broadcast": single("LayerNormalization", {"epsilon": 1e-3},
                                           {"scale": lambda: rand(1)}),
    "group_norm": single("GroupNormalization", {"num_groups": 2, "epsilon": 1e-4},
                         {"scale": lambda: rand(4), "bias": lambda: rand(4)},
                         shape=[2, 4, 5, 5]),
    "expand": single("Expand", {"shape": [3, 1, 1, 8, 1]}, shape=[2, 1, 8, 1]),
    "tile": single("Tile", {"repeats": [1, 2, 1, 3]}),
    "depth_to_space_dcr": single("DepthToSpace", {"blocksize": 2}, shape=[2, 8, 3, 4]),
    "depth_to_space_crd": single("DepthToSpace", {"blocksize": 2, "mode": "CRD"},
                                 shape=[2, 8, 3, 4]),
    "space_to_depth": single("SpaceToDepth", {"blocksize": 2}),
    "transformer_block": transformer_block,
}
# outputs without gradients (integer or piecewise constant): train mode runs forward only
NO_GRAD = {"argmax", "argmin_last", "hardmax"}
CASES |= {
    "argmax": single("ArgMax", {"axis": 1}),
    "argmin_last": single("ArgMin", {"axis": -1, "keepdims": False,
                                     "select_last_index": True}),
    "hardmax": single("Hardmax", {"axis": -1}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_structure_op(case, tmp_path):
    g, w = CASES[case]()
    assert registry.validate(g) == [], registry.validate(g)
    assert BACKEND.issues(g) == []
    files = convert(g, w, tmp_path)
    ruff(files[MODEL_PY])
    x = feeds(g)
    if case in ("argmin_last", "argmax"):  # ties, so select_last_index matters
        x = {k: np.round(v) for k, v in x.items()}
    ref = registry.run_reference(g, w, x)
    mod, model = load(files)
    try:
        model.eval()
        out = run_eager(mod, model, x)
        outs = out if isinstance(out, tuple) else (out,)
        assert len(outs) == len(ref)
        for o, r in zip(outs, ref.values(), strict=True):
            assert o.numpy().dtype == r.dtype, (o.dtype, r.dtype)
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
        if case not in NO_GRAD:
            outs = out if isinstance(out, tuple) else (out,)
            sum(o.float().sum() for o in outs).backward()
            for p in model.parameters():
                assert p.grad is not None
            assert any(a.grad is not None for a in args)
    finally:
        forget(mod)


def source(case: str, tmp_path) -> str:
    g, w = CASES[case]()
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    return Path(files[MODEL_PY]).read_text()


@pytest.mark.parametrize("case,expected", [
    ("layer_norm", "nn.LayerNorm([8, 8])"),
    ("layer_norm_no_bias_broadcast", "nn.LayerNorm(8, eps=0.001, bias=False)"),
    ("instance_norm", "nn.InstanceNorm2d(3, eps=0.001, affine=True)"),
    ("instance_norm_1d", "nn.InstanceNorm1d(3, affine=True)"),
    ("group_norm", "nn.GroupNorm(2, 4, eps=0.0001)"),
    ("depth_to_space_crd", "nn.PixelShuffle(2)"),
    ("log_softmax", "nn.LogSoftmax(dim=1)"),
    ("transpose", "data.permute(0, 2, 3, 1)"),
    ("slice", "data[:, 1:, :, ::3]"),
    ("slice_negative_step", "data.flip([1, 2])[:, :, 1:6:2]"),
    ("gather", "data[:, idx]"),
    ("pad_constant", "F.pad(data, [0, 3, 2, 1, 1, 0], value=0.5)"),
    ("pad_edge", 'F.pad(data, [9, 1, 0, 0], mode="replicate")'),
    ("reduce_sum", "torch.sum(data, dim=[2, 3], keepdim=True)"),
    ("reduce_mean_all", "torch.mean(data)"),
    ("reduce_prod", "torch.prod(torch.prod(data, 3), 1)"),
    ("argmin_last", "7 - torch.argmin(data.flip(3), dim=3)"),
    ("gemm", "0.5 * torch.matmul(x0, x1.t()) + 2.0 * x2"),
    ("tile", "data.repeat(1, 2, 1, 3)"),
    ("expand", "data.expand(3, 2, 1, 8, 1)"),
    ("squeeze_all", "torch.squeeze(data, (1, 3))"),
    ("unsqueeze", "data.unsqueeze(0).unsqueeze(5)"),
])
def test_readable_source(case, expected, tmp_path):
    src = source(case, tmp_path)
    assert expected in src, src


def test_layer_norm_state_dict_names(tmp_path):
    g, w = CASES["layer_norm_no_bias_broadcast"]()
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    mod, model = load(files)
    try:
        assert isinstance(model.n, torch.nn.LayerNorm) and model.n.bias is None
        np.testing.assert_array_equal(model.n.weight.detach().numpy(),
                                      np.broadcast_to(w["n.scale"], (8,)))
    finally:
        forget(mod)


def test_unsupported_pads_reported():
    nodes = [inp(), Node("p1", "Pad", ["data"], {"pads": [1, 0, 0, 0, 1, 0, 0, 0],
                                                 "mode": "reflect"}),
             Node("p2", "Pad", ["p1"], {"pads": [0, 0, 0, -1, 0, 0, 0, 0], "mode": "edge"}),
             Node("p3", "Pad", ["p2"], {"pads": [0, 0, 8, 0, 0, 0, 0, 0], "mode": "reflect"})]
    g, _ = graph(nodes, {})
    issues = BACKEND.issues(g)
    assert [i.location for i in issues] == ["p1", "p2", "p3"], issues
    assert "at most the last" in issues[0].message
    assert "negative" in issues[1].message
    assert "too large" in issues[2].message
