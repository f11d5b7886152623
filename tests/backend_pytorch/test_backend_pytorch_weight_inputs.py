"""backend-pytorch with weights computed at run time: the functional forms (F.conv2d,
F.batch_norm, torch.clamp, ...) match the NumPy reference; stored weights keep nn modules;
LayerNormalization's Mean / InvStdDev outputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nnrosetta.ir import registry
from nnrosetta_backend_pytorch.service import MODEL_PY, WEIGHTS_PTH, forget

from ._dynamic_cases import CASES, feeds
from .test_backend_pytorch_codegen import BACKEND, close, convert, load, ruff, run_eager


@pytest.mark.parametrize("case", sorted(CASES))
def test_dynamic_weights_match_reference(case, tmp_path):
    g, w, extra = CASES[case]()
    assert registry.validate(g) == [], registry.validate(g)
    assert BACKEND.issues(g) == []
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    ruff(files[MODEL_PY])
    x = feeds(g, extra)
    ref = registry.run_reference(g, w, x)
    mod, model = load(files)
    try:
        out = run_eager(mod, model, x)
        outs = out if isinstance(out, tuple) else (out,)
        for r, o in zip(mod.OUTPUTS, outs, strict=True):
            close(o.numpy(), ref[r])
    finally:
        forget(files[MODEL_PY])


def _source(case, tmp_path) -> str:
    g, w, _ = CASES[case]()
    tmp_path.mkdir(parents=True, exist_ok=True)
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    return Path(files[MODEL_PY]).read_text()


def test_functional_forms_are_readable(tmp_path):
    src = {c: _source(c, tmp_path / c) for c in
           ("conv_weight", "conv_bias_only", "bn_all", "bn_stats", "clip_both", "clip_max",
            "prelu_broadcast", "layer_norm", "instance_norm", "group_norm")}
    assert "F.conv2d(x, p_weight, self.n_bias, stride=(1, 2), padding=1)" in src["conv_weight"]
    assert "nn.Parameter(torch.zeros([6, 4, 3, 3]))" in src["conv_bias_only"]
    assert "F.batch_norm(x, p_mean, p_var, p_scale, p_bias, training=False, eps=0.001)" \
        in src["bn_all"]
    assert "register_buffer" not in src["bn_all"]
    assert "F.batch_norm(x, p_mean, p_var, self.n_scale, self.n_bias, training=False" \
        in src["bn_stats"]
    assert "torch.clamp(x, min=p_min, max=p_max)" in src["clip_both"]
    assert "torch.clamp(x.clamp(min=-0.5), max=p_max)" in src["clip_max"]
    assert "torch.where(x >= 0, x, x * p_slope)" in src["prelu_broadcast"]
    assert "F.layer_norm(x, [4, 5], p_scale, p_bias" in src["layer_norm"]
    assert "F.instance_norm(x, weight=p_scale, bias=p_bias" in src["instance_norm"]
    assert "F.group_norm(x, 2, p_scale, self.n_bias" in src["group_norm"]


def test_mixed_static_weight_trains(tmp_path):
    """A stored weight beside a run-time bias is a trainable nn.Parameter in the state_dict."""
    g, w, extra = CASES["conv_bias_only"]()
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    state = torch.load(files[WEIGHTS_PTH], weights_only=True)
    assert set(state) == {"n_weight"}
    mod, model = load(files)
    try:
        assert [n for n, p in model.named_parameters() if p.requires_grad] == ["n_weight"]
    finally:
        forget(files[MODEL_PY])


def test_static_layer_norm_keeps_module_and_adds_stats(tmp_path):
    src = _source("layer_norm_stats", tmp_path)
    assert "nn.LayerNorm(6, eps=0.001)" in src
    assert "x.mean(dim=(2,), keepdim=True)" in src
    assert "torch.rsqrt(x.var(dim=(2,), unbiased=False, keepdim=True) + 0.001)" in src
    g, w, _ = CASES["layer_norm_stats"]()
    assert np.all([r in g.outputs for r in ("n:1", "n:2")])
