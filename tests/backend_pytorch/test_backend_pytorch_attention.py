"""backend-pytorch Attention emitter: the generated code is ruff clean, reads as explicit math
(matmul, scale, mask, softmax, matmul), matches the IR's NumPy reference in eval mode, scripts
to TorchScript with the same results and trains (gradients reach the inputs)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta_backend_pytorch.service import MODEL_PY, TORCHSCRIPT_PT, forget

from ._cases import graph, inp
from .test_backend_pytorch_codegen import BACKEND, close, convert, load, ruff, run_eager

OUTS = ["Y", "present_key", "present_value", "qk_matmul_output"]


def attention(q, k, v, mask=None, past=None, attrs=None, fetch=(0,)):
    """Graph inputs Q, K, V (and a mask, past key/value shapes) into one Attention node;
    ``fetch``: which of its outputs are graph outputs."""
    attrs = dict(attrs or {})
    n_out = max(fetch) + 1
    if n_out > 1:
        attrs["num_outputs"] = n_out

    def make():
        shapes = {"q": q, "k": k, "v": v}
        if mask is not None:
            shapes["mask"] = mask
        if past is not None:
            shapes["past_key"], shapes["past_value"] = past
        nodes = [inp(n, s) for n, s in shapes.items()]
        nodes.append(Node("attn", "Attention", list(shapes), attrs))
        return graph(nodes, {}, outputs=[f"attn:{i}" if i else "attn" for i in fetch])
    return make


Q4, K4, V4 = [2, 3, 4, 8], [2, 3, 6, 8], [2, 3, 6, 8]
PAST = ([2, 3, 12, 8], [2, 3, 12, 8])
CASES = {
    "4d": attention(Q4, K4, V4),
    "4d_scaled_softcap": attention(Q4, K4, V4, attrs={"scale": 0.2, "softcap": 3.0}),
    "4d_causal": attention(Q4, K4, V4, attrs={"is_causal": True}),
    "4d_mask": attention(Q4, K4, V4, mask=[4, 6]),
    "4d_mask4d_causal": attention(Q4, K4, V4, mask=[2, 1, 4, 6], attrs={"is_causal": True}),
    "4d_gqa": attention([2, 6, 4, 8], [2, 2, 6, 8], [2, 2, 6, 5]),
    "4d_past_short_mask_all": attention(Q4, K4, V4, mask=[4, 10], past=PAST,
                                        attrs={"qk_matmul_output_mode": 2},
                                        fetch=(0, 1, 2, 3)),
    "4d_past_causal": attention(Q4, K4, V4, past=PAST, attrs={"is_causal": True},
                                fetch=(0, 1, 2)),
    "4d_qk_softmax": attention(Q4, K4, V4, mask=[4, 6], attrs={"qk_matmul_output_mode": 3},
                               fetch=(0, 3)),
    "4d_qk_raw_only": attention(Q4, K4, V4, fetch=(3,)),
    "4d_softmax_double": attention(Q4, K4, V4, attrs={"softmax_precision": 11}),
    "4d_window": attention(Q4, K4, V4, past=PAST, attrs={"left_window_size": 2,
                                                         "right_window_size": 1}),
    "4d_window_empty_rows": attention(Q4, [2, 3, 3, 8], [2, 3, 3, 8],
                                      attrs={"is_causal": True, "left_window_size": 0,
                                             "right_window_size": 0}),
    "3d": attention([2, 4, 24], [2, 6, 24], [2, 6, 24],
                    attrs={"q_num_heads": 3, "kv_num_heads": 3}),
    "3d_gqa_past": attention([2, 4, 32], [2, 6, 16], [2, 6, 12], mask=[4, 9],
                             past=([2, 2, 3, 8], [2, 2, 3, 6]),
                             attrs={"q_num_heads": 4, "kv_num_heads": 2, "is_causal": True},
                             fetch=(0, 1, 2)),
}


def feeds(g, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for n in g.inputs:
        a = rng.standard_normal(n.attrs["shape"]).astype(np.float32)
        if n.name == "mask":   # an additive mask: zeros and -inf, one query fully masked
            a = np.where(a > -0.5, 0.0, -np.inf).astype(np.float32)
            a[..., 1, :] = -np.inf
        out[n.name] = a
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_attention(case, tmp_path):
    g, w = CASES[case]()
    assert registry.validate(g) == [], registry.validate(g)
    assert BACKEND.issues(g) == []
    files = convert(g, w, tmp_path)
    ruff(files[MODEL_PY])
    x = feeds(g, sorted(CASES).index(case))
    ref = registry.run_reference(g, w, x)
    mod, model = load(files)
    try:
        model.eval()
        out = run_eager(mod, model, x)
        outs = out if isinstance(out, tuple) else (out,)
        assert len(outs) == len(ref)
        for o, r in zip(outs, ref.values(), strict=True):
            assert o.numpy().dtype == r.dtype
            assert np.isfinite(o.numpy()).all() or not np.isfinite(r).all()
            close(np.where(np.isneginf(r), 0, o.numpy()), np.where(np.isneginf(r), 0, r))
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
        sum(torch.where(torch.isinf(o), 0, o).sum() for o in outs).backward()
        assert args[0].grad is not None and torch.isfinite(args[0].grad).all()
    finally:
        forget(mod)


def source(case: str, tmp_path) -> str:
    g, w = CASES[case]()
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    return Path(files[MODEL_PY]).read_text()


@pytest.mark.parametrize("case,expected", [
    ("4d", ["torch.matmul(q, k.transpose(-2, -1)) * 0.35355339059327373  # 1 / sqrt(8)",
            "attn_probs = torch.softmax(attn_scores, dim=-1)",
            "attn = torch.matmul(attn_probs, v)"]),
    ("4d_scaled_softcap", ["* 0.2\n", "attn_scores = 3.0 * torch.tanh(attn_scores / 3.0)"]),
    ("4d_causal", ["torch.ones(4, 6, dtype=torch.bool, device=q.device).tril(0)",
                   'attn_scores.masked_fill(~attn_allowed, float("-inf"))']),
    ("4d_gqa", ["k.repeat_interleave(3, dim=1)", "v.repeat_interleave(3, dim=1)"]),
    ("4d_past_short_mask_all", ["torch.cat([past_key, k], dim=2)",
                                'F.pad(mask, [0, 8], value=float("-inf"))',
                                "attn_scores = attn_scores + attn_bias",
                                "attn_none = torch.isneginf(attn_bias.amax(dim=-1, keepdim=True))",
                                "torch.softmax(attn_scores.masked_fill(attn_none, 0.0), dim=-1)"]),
    ("4d_softmax_double", ["torch.softmax(attn_scores, dim=-1, dtype=torch.float64).float()"]),
    ("4d_window", [".tril(13).triu(10)", "j >= i + 10 and j <= i + 13"]),
    ("3d", ["q.reshape(2, 4, 3, 8).transpose(1, 2)",
            ".transpose(1, 2).reshape(2, 4, 24)  # merge the heads"]),
])
def test_readable_source(case, expected, tmp_path):
    src = source(case, tmp_path)
    for text in expected:
        assert text in src, src
    assert "scaled_dot_product_attention" not in src


def test_bad_shapes_are_reported():
    g, _ = attention([2, 4, 24], [2, 6, 24], [2, 6, 24])()   # 3-D without head counts
    issues = BACKEND.issues(g)
    assert [i.location for i in issues] == ["attn"], issues
