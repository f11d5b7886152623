"""backend-pytorch, Pool in 1-D / 3-D / with dilations, LpPool, LpNormalization,
MeanVarianceNormalization, Swish, SwiGLU and Mod: the generated model matches the IR's
NumPy reference (eager and TorchScript), is ruff clean, and reads as PyTorch's own layers
where they fit (nn.MaxPool1d/3d with dilation, nn.AvgPool3d, nn.SiLU, torch.remainder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nnrosetta.ir import registry
from nnrosetta_backend_pytorch.service import MODEL_PY, TORCHSCRIPT_PT, forget

from ._cases import feeds
from ._pool_cases import CASES
from .test_backend_pytorch_codegen import BACKEND, close, convert, load, ruff, run_eager


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_reference(case, tmp_path):
    g, w = CASES[case]()
    assert registry.validate(g) == [], registry.validate(g)
    assert BACKEND.issues(g) == []
    files = convert(g, w, tmp_path)
    ruff(files[MODEL_PY])
    x = feeds(g)
    ref = registry.run_reference(g, w, x)
    mod, model = load(files)
    try:
        model.eval()
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
    finally:
        forget(mod)


@pytest.mark.parametrize("case,expected", [
    ("pool1d_max", "nn.MaxPool1d(kernel_size=3, stride=2, padding=1, ceil_mode=False)"),
    ("pool2d_max_dilated", "nn.MaxPool2d(kernel_size=2, stride=1, padding=0, dilation=2, "),
    ("pool3d_avg_ceil", "nn.AvgPool3d(kernel_size=2, stride=2, padding=0, ceil_mode=True, "),
    ("pool3d_global_max", "nn.AdaptiveMaxPool3d(1)"),
    ("pool2d_avg_dilated", ".unfold(2, 3, 1)[..., ::2].unfold(3, 3, 1)[..., ::2]"),
    ("lppool2d_dilations", "torch.linalg.vector_norm(n, 2, dim=(-2, -1))"),
    ("lpnorm_p2", "F.normalize(data, p=2.0, dim=-1)"),
    ("swish", "nn.SiLU()"),
    ("swiglu", "y = F.silu(a) * b"),
    ("mod", "y = torch.remainder(a, b)"),
    ("fmod", "y = torch.fmod(a, b)"),
])
def test_readable_source(case, expected, tmp_path):
    g, w = CASES[case]()
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    src = Path(files[MODEL_PY]).read_text()
    assert "".join(expected.split()) in "".join(src.split()), src   # wrapping aside


def test_dilated_average_divides_by_counts(tmp_path):
    """Windows that reach into the padding divide by a constant count buffer."""
    g, w = CASES["pool2d_avg_dilated_exclude_ceil"]()
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    src = Path(files[MODEL_PY]).read_text()
    assert "self.register_buffer(" in src and ".sum(dim=(-2, -1)) / self.n_count" in src, src
