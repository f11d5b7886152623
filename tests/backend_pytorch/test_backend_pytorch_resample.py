"""backend-pytorch emitters of Resize, GridSample and RMSNormalization: the generated code is
ruff clean, matches the NumPy reference, scripts to TorchScript, and takes the readable form
(F.interpolate / F.grid_sample / F.rms_norm) where PyTorch computes the same thing."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Node
from nnrosetta_backend_pytorch.service import MODEL_PY, TORCHSCRIPT_PT, forget

from ._cases import feeds, graph, inp, rand
from ._dynamic_cases import RESIZE_RUNTIME, resize_runtime
from .test_backend_pytorch_codegen import BACKEND, close, convert, load, ruff, run_eager


def resize(attrs, shape=(1, 2, 5, 7)):
    def make():
        return graph([inp(shape=shape), Node("up", "Resize", ["data"], dict(attrs))], {})
    return make


def two(op, a, b, attrs):
    def make():
        return graph([inp("x", a), inp("g", b), Node("y", op, ["x", "g"], dict(attrs))], {})
    return make


def rms_const_scale():
    nodes = [inp(shape=[2, 5, 8]), Node("w", "Constant", []),
             Node("rms", "RMSNormalization", ["data", "w"], {"epsilon": 1e-6})]
    return graph(nodes, {"w.value": rand(8)}, outputs=["rms"])


# case -> (graph maker, text the generated forward must contain)
CASES = {
    "resize_nearest": (resize({"mode": "nearest", "scales": [1, 1, 2, 3],
                               "coordinate_transformation_mode": "asymmetric",
                               "nearest_mode": "floor"}), 'mode="nearest"'),
    # half_pixel + ceil: no F.interpolate mode, explicit indices
    "resize_nearest_half_pixel": (resize({"mode": "nearest", "sizes": [1, 2, 8, 4],
                                        "nearest_mode": "ceil"}),
                                  ".index_select("),
    "resize_nearest_exact": (resize({"mode": "nearest", "sizes": [1, 2, 8, 4]}),
                             'mode="nearest-exact"'),
    "resize_bilinear": (resize({"mode": "linear", "scales": [1, 1, 2, 2]}), 'mode="bilinear"'),
    "resize_bicubic_align": (resize({"mode": "cubic", "sizes": [1, 2, 9, 4],
                                     "coordinate_transformation_mode": "align_corners"}),
                             "align_corners=True"),
    "resize_cubic_exclude": (resize({"mode": "cubic", "scales": [1, 1, 0.6, 1.7],
                                     "cubic_coeff_a": -0.5, "exclude_outside": True}),
                             "resize_taps("),
    "resize_linear_antialias": (resize({"mode": "linear", "scales": [0.6, 0.5],
                                        "axes": [2, 3], "antialias": True}), "resize_taps("),
    "resize_channels": (resize({"mode": "linear", "scales": [1, 2, 1, 1]}), "resize_taps("),
    "resize_crop": (resize({"mode": "linear", "sizes": [3, 3], "axes": [3, 2],
                            "coordinate_transformation_mode": "tf_crop_and_resize",
                            "roi": [0.2, -0.3, 1.2, 0.9], "extrapolation_value": 5.0}),
                    "torch.where("),
    "resize_5d": (resize({"mode": "linear", "scales": [1, 1, 2, 1.5, 0.5],
                          "coordinate_transformation_mode": "align_corners"},
                         shape=(1, 2, 3, 4, 6)), 'mode="trilinear"'),
    "rms": (two("RMSNormalization", [2, 3, 4, 5], [4, 5], {"axis": 2}), "F.rms_norm("),
    "rms_broadcast_scale": (two("RMSNormalization", [2, 3, 4, 5], [1, 5], {"axis": -2}),
                            ") * g"),
    "rms_const_scale": (rms_const_scale, "F.rms_norm("),
}
for _m, _p, _a in itertools.product(["linear", "nearest", "cubic"],
                                    ["zeros", "border", "reflection"], [False, True]):
    if (_m, _p) in (("cubic", "border"), ("cubic", "reflection"), ("nearest", "reflection")):
        continue
    CASES[f"grid_{_m}_{_p}_{int(_a)}"] = (
        two("GridSample", [2, 3, 5, 6], [2, 4, 7, 2],
            {"mode": _m, "padding_mode": _p, "align_corners": _a}), "F.grid_sample(")
    if _m != "cubic":
        CASES[f"grid3d_{_m}_{_p}_{int(_a)}"] = (
            two("GridSample", [1, 2, 3, 4, 5], [1, 2, 3, 4, 3],
                {"mode": _m, "padding_mode": _p, "align_corners": _a}), "F.grid_sample(")


@pytest.mark.parametrize("case", sorted(CASES))
def test_op(case, tmp_path):
    make, text = CASES[case]
    g, w = make()
    assert registry.validate(g) == [], registry.validate(g)
    assert BACKEND.issues(g) == []
    files = convert(g, w, tmp_path)
    ruff(files[MODEL_PY])
    assert text in Path(files[MODEL_PY]).read_text()
    x = feeds(g)
    if "g" in x and g.node_map()["y"].op == "GridSample":
        x["g"] = np.random.default_rng(3).uniform(-1.4, 1.4, x["g"].shape).astype(np.float32)
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


@pytest.mark.parametrize("mode,pad,rank", [("cubic", "border", 4), ("cubic", "reflection", 4),
                                           ("nearest", "reflection", 4), ("cubic", "zeros", 5),
                                           ("linear", "zeros", 3)])
def test_grid_sample_refused(mode, pad, rank):
    """Combinations where F.grid_sample differs from ONNX are reported, not emitted."""
    x = [1, 2, 4, 5, 6][:rank]
    g, _ = two("GridSample", x, [1, *x[2:], rank - 2],
               {"mode": mode, "padding_mode": pad})()
    issues = BACKEND.issues(g)
    assert issues and all(i.location == "y" for i in issues), issues


@pytest.mark.parametrize("name", sorted(RESIZE_RUNTIME))
def test_resize_runtime_inputs(name, tmp_path):
    """Scales / sizes / roi fed at run time: resize_runtime evaluates the taps in forward, so
    one converted model (eager and its TorchScript) resizes by whatever values it is given."""
    g, runs = resize_runtime(name)
    assert BACKEND.issues(g) == []
    files = convert(g, {}, tmp_path)
    ruff(files[MODEL_PY])
    src = Path(files[MODEL_PY]).read_text()
    assert "resize_runtime(" in src and "index0" not in src    # no taps baked in
    mod, model = load(files)
    try:
        model.eval()
        ts = torch.jit.load(files[TORCHSCRIPT_PT])
        shapes = set()
        for x in runs:
            ref = registry.run_reference(g, {}, x)["n"]
            out = run_eager(mod, model, x).numpy()
            close(out, ref)
            with torch.no_grad():
                tout = ts(*[torch.from_numpy(x[n].copy()) for n in mod.INPUTS]).numpy()
            close(tout, ref)
            shapes.add(out.shape)
        assert len(shapes) == 2
    finally:
        forget(mod)
