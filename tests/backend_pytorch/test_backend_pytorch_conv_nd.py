"""backend-pytorch, Conv / ConvTranspose over 1 and 3 spatial axes: the generated model
matches the IR's NumPy reference (eager and TorchScript), is ruff clean, uses nn.Conv1d/3d,
nn.ConvTranspose1d/3d (stored weights) or F.conv1d/3d, F.conv_transpose1d/3d (weights computed
at run time), and 2-D graphs still read as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from nnrosetta.ir import registry
from nnrosetta_backend_pytorch.service import MODEL_PY, TORCHSCRIPT_PT, forget

from ._cases import feeds
from ._conv_nd_cases import DYNAMIC, STATIC
from ._dynamic_cases import feeds as dynamic_feeds
from .test_backend_pytorch_codegen import BACKEND, close, convert, load, ruff, run_eager


@pytest.mark.parametrize("case", sorted(STATIC))
def test_matches_reference(case, tmp_path):
    g, w = STATIC[case]()
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
        close(out.numpy(), next(iter(ref.values())))
        ts = torch.jit.load(files[TORCHSCRIPT_PT])
        with torch.no_grad():
            tout = ts(*[torch.from_numpy(x[n].copy()) for n in mod.INPUTS])
        np.testing.assert_allclose(tout.numpy(), out.numpy(), rtol=1e-6, atol=1e-6)
    finally:
        forget(mod)


@pytest.mark.parametrize("case", sorted(DYNAMIC))
def test_dynamic_weights_match_reference(case, tmp_path):
    g, w, extra = DYNAMIC[case]()
    assert registry.validate(g) == [], registry.validate(g)
    assert BACKEND.issues(g) == []
    files = convert(g, w, tmp_path, {"artifacts": "code"})
    ruff(files[MODEL_PY])
    x = dynamic_feeds(g, extra)
    ref = registry.run_reference(g, w, x)
    mod, model = load(files)
    try:
        out = run_eager(mod, model, x)
        close(out.numpy(), ref[mod.OUTPUTS[0]])
    finally:
        forget(files[MODEL_PY])


def _source(make, tmp_path) -> str:
    made = make()
    files = convert(made[0], made[1], tmp_path, {"artifacts": "code"})
    return "".join(Path(files[MODEL_PY]).read_text().split())


@pytest.mark.parametrize("case,expected", [
    ("conv1d", "nn.Conv1d(4, 6, kernel_size=3, stride=1, padding=1)"),
    ("conv1d_stride_dil_group_nobias",
     "nn.Conv1d(4, 6, kernel_size=3, stride=2, padding=0, dilation=2, groups=2, bias=False"),
    ("conv1d_asym", "F.pad(data, [3, 0])"),
    ("conv2d_defaults", "nn.Conv2d(3, 4, kernel_size=3, stride=1, padding=0)"),
    ("conv3d", "nn.Conv3d(2, 4, kernel_size=(2, 3, 2), stride=(2, 1, 2), padding=(1, 1, 0))"),
    ("conv3d_asym_group", "F.pad(data, [2, 1, 0, 1, 1, 0])"),
    ("deconv1d", "nn.ConvTranspose1d(4, 3, kernel_size=3, stride=2, padding=1, "
                 "output_padding=1)"),
    ("deconv1d_asym_group_nobias", "[:, :, 2:]"),
    ("deconv2d_defaults", "nn.ConvTranspose2d(3, 2, kernel_size=2, stride=1, padding=0)"),
    ("deconv3d", "nn.ConvTranspose3d(2, 3, kernel_size=(2, 3, 2), stride=(2, 1, 2), "
                 "padding=0)"),
    ("deconv3d_asym_outpad", "n[:, :, 1:, 0:-1, 1:-1]"),
])
def test_readable_source(case, expected, tmp_path):
    assert "".join(expected.split()) in _source(STATIC[case], tmp_path)


@pytest.mark.parametrize("case,expected", [
    ("conv1d_weight_bound", "F.conv1d(x, p_weight, self.n_bias, stride=2, padding=1)"),
    ("conv3d_bias_bound", "F.pad(x, [1, 0, 0, 1, 1, 0]) n = F.conv3d(n, self.n_weight, p_bias)"),
    ("deconv1d_weight_bound", "F.conv_transpose1d(x, p_weight, self.n_bias, stride=2)"),
    ("deconv3d_all_bound", "F.conv_transpose3d(x, p_weight, p_bias, stride=(2, 1, 2), "
                           "output_padding=(1, 0, 0), groups=2"),
])
def test_functional_source(case, expected, tmp_path):
    assert "".join(expected.split()) in _source(DYNAMIC[case], tmp_path)


def test_output_padding_limit_is_reported():
    g, _ = STATIC["deconv1d"]()
    g.node("n").attrs["output_padding"] = [2]
    assert any("output_padding" in i.message for i in BACKEND.issues(g))
