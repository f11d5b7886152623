"""backend-pytorch: BatchNormTraining (explicit batch statistics and running-statistics update)
and SpaceToDepth's mode (CRD = nn.PixelUnshuffle): generated code is ruff clean, matches the
NumPy reference, scripts to TorchScript with the same results, and reads as intended."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta_backend_pytorch.service import MODEL_PY, TORCHSCRIPT_PT, forget

from ._cases import feeds, graph, inp, rand
from .test_backend_pytorch_codegen import BACKEND, close, convert, load, ruff, run_eager

OUTS = ["n", "n:1", "n:2"]


def bn_stored(shape=(2, 3, 4, 5), affine=True, outputs=OUTS):
    def make():
        c = shape[1]
        w = {"n.mean": rand(c), "n.var": rand(c, lo=0.5)}
        if affine:
            w |= {"n.scale": rand(c), "n.bias": rand(c)}
        nodes = [inp(shape=list(shape)),
                 Node("n", "BatchNormTraining", ["data"], {"epsilon": 1e-3, "momentum": 0.2})]
        return graph(nodes, w, outputs=outputs)
    return make


def bn_bound():
    """scale, bias, mean, var all graph inputs (how ONNX's conformance tests feed them)."""
    nodes = [inp(shape=[2, 3, 4, 5])] + [inp(k, [3]) for k in ("s", "b", "m", "v")]
    nodes.append(Node("n", "BatchNormTraining", ["data", "s", "b", "m", "v"], {}))
    return graph(nodes, {}, outputs=OUTS)


def bn_bound_stats_only():
    """Stored scale/bias, run-time mean/var (weight_inputs names the bound roles)."""
    nodes = [inp(shape=[2, 3, 6]), inp("m", [3]), inp("v", [3]),
             Node("n", "BatchNormTraining", ["data", "m", "v"],
                  {"weight_inputs": ["mean", "var"]})]
    return graph(nodes, {"n.scale": rand(3), "n.bias": rand(3)}, outputs=OUTS)


def s2d(mode: str | None, shape=(2, 3, 6, 4), b=2):
    def make():
        attrs = {"blocksize": b} | ({"mode": mode} if mode else {})
        return graph([inp(shape=list(shape)), Node("n", "SpaceToDepth", ["data"], attrs)], {})
    return make


CASES = {
    "bn_train": bn_stored(),
    "bn_train_no_affine_3d": bn_stored((4, 3, 5), affine=False),
    "bn_train_2d": bn_stored((6, 4)),
    "bn_train_y_only": bn_stored(outputs=["n"]),
    "bn_train_mean_only": bn_stored(outputs=["n:1"]),
    "bn_train_bound": bn_bound,
    "bn_train_bound_stats": bn_bound_stats_only,
    "s2d_crd": s2d("CRD"),
    "s2d_crd_b3": s2d("CRD", (1, 2, 6, 9), 3),
    "s2d_dcr": s2d("DCR"),
    "s2d_default": s2d(None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_op(case, tmp_path):
    g, w = CASES[case]()
    assert registry.validate(g) == [], registry.validate(g)
    assert BACKEND.issues(g) == []
    files = convert(g, w, tmp_path)
    ruff(files[MODEL_PY])
    x = feeds(g)
    ref = registry.run_reference(g, w, x)
    mod, model = load(files)
    try:
        model.eval()   # the op is training-mode by definition: eval changes nothing
        out = run_eager(mod, model, x)
        outs = out if isinstance(out, tuple) else (out,)
        assert len(outs) == len(ref)
        for o, r in zip(outs, ref.values(), strict=True):
            close(o.numpy(), r)
        ts = torch.jit.load(files[TORCHSCRIPT_PT])
        with torch.no_grad():
            tout = ts(*[torch.from_numpy(x[n].copy()) for n in mod.INPUTS])
        touts = tout if isinstance(tout, tuple) else (tout,)
        for a, b in zip(touts, outs, strict=True):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
        model.train()
        out = run_eager(mod, model, x)
        outs = out if isinstance(out, tuple) else (out,)
        for o, r in zip(outs, ref.values(), strict=True):
            close(o.numpy(), r)
        state = {k: v.clone() for k, v in model.state_dict().items()}
        run_eager(mod, model, x)
        for k, v in model.state_dict().items():   # nothing is updated in place
            assert torch.equal(v, state[k]), k
    finally:
        forget(mod)


def source(case: str, tmp_path) -> str:
    g, w = CASES[case]()
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    return Path(files[MODEL_PY]).read_text()


@pytest.mark.parametrize("case,expected,absent", [
    ("s2d_crd", "nn.PixelUnshuffle(2)", "permute"),
    ("s2d_dcr", "permute(0, 3, 5, 1, 2, 4)", "PixelUnshuffle"),
    ("s2d_default", "permute(0, 3, 5, 1, 2, 4)", "PixelUnshuffle"),
    ("bn_train", "var(dim=(0, 2, 3), unbiased=False)", "nn.BatchNorm"),
    ("bn_train_2d", "mean(dim=(0,))", "F.batch_norm"),
    ("bn_train", "0.8 * self.n_running_mean + 0.2 * n_batch_mean", "running_mean ="),
])
def test_source_reads(case, expected, absent, tmp_path):
    src = source(case, tmp_path)
    assert expected in src, src
    assert absent not in src, src


def test_unread_running_stats_are_not_computed(tmp_path):
    src = source("bn_train_y_only", tmp_path)
    assert "running" not in src.split("def forward", 1)[1], src
