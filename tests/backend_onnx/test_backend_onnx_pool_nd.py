"""backend-onnx, Pool in 1-D / 3-D / with dilations, LpPool, LpNormalization,
MeanVarianceNormalization, Swish, SwiGLU and Mod: the written model passes onnx.checker
(full_check, run by FromIR) and onnxruntime matches the IR NumPy reference at several opsets;
the ops are ONNX's own where the opset has them (Swish 24, SwiGLU 28, float Mod fmod=0 28),
else their compositions."""

from __future__ import annotations

import onnx
import pytest

from nnrosetta.ir import registry
from nnrosetta.rpc.converter import Model
from nnrosetta_backend_onnx import build
from nnrosetta_backend_onnx.service import MODEL_ONNX
from tests.backend_pytorch._cases import feeds
from tests.backend_pytorch._pool_cases import CASES

from .test_backend_onnx_emitters import BACKEND, close, convert

OPSETS = [13, 17, 19, 23]
NEWEST = {"swish", "swish_alpha", "swiglu", "swiglu_alpha", "mod", "mod_constant"}


def _run(case, opset, tmp_path):
    g, w = CASES[case]()
    x = feeds(g)
    ref = registry.run_reference(g, w, x)
    files = convert(g, w, tmp_path, opset=str(opset))
    outs, _ = BACKEND.run(Model(format="onnx", files=files, workdir=str(tmp_path)), x, [])
    assert [k for k, _ in outs] == g.output_refs()
    for k, v in outs:
        close(v, ref[k])
    return onnx.load(files[MODEL_ONNX])


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_reference(case, opset, tmp_path):
    _run(case, opset, tmp_path)


def _ops(m) -> list[str]:
    return [n.op_type for n in m.graph.node]


@pytest.mark.parametrize("case,ops", [
    ("pool1d_max", ["MaxPool"]),
    ("pool3d_max_dilated", ["MaxPool"]),
    ("pool3d_avg_ceil", ["AveragePool"]),
    ("pool1d_global_avg", ["GlobalAveragePool"]),
    ("pool2d_avg_dilated", ["Conv", "Div"]),
    ("lppool2d_pads", ["LpPool"]),
    ("lppool2d_dilations", ["Mul", "Conv", "Sqrt"]),
    ("lppool_global", ["GlobalLpPool"]),
    ("lpnorm_p2", ["LpNormalization"]),
    ("mvn_default", ["MeanVarianceNormalization"]),
    ("swish_alpha", ["Mul", "Sigmoid", "Mul"]),
    ("swiglu", ["Sigmoid", "Mul", "Mul"]),
    ("fmod", ["Mod"]),
    ("mod", ["Mod", "Equal", "Not", "Mul", "Less", "And", "Add", "Where"]),
])
def test_forms_at_opset_17(case, ops, tmp_path):
    assert _ops(_run(case, 17, tmp_path)) == ops


def test_dilations_attribute_on_max_pool(tmp_path):
    m = _run("pool3d_max_dilated", 17, tmp_path)
    attrs = {a.name: list(a.ints) for a in m.graph.node[0].attribute}
    assert attrs["dilations"] == [2, 1, 2] and attrs["kernel_shape"] == [2, 2, 2]
    assert attrs["pads"] == [0, 1, 0, 1, 0, 1]


@pytest.mark.parametrize("case,op", [("mod", "Mod")])
def test_newest_opset_writes_the_op(case, op, tmp_path):
    """At the newest opset the op itself is written (checked by onnx.checker; onnxruntime
    may not run opsets that new yet). Swish and SwiGLU are always written as their function
    bodies: onnxruntime 1.32 has no kernel for them."""
    g, w = CASES[case]()
    files = convert(g, w, tmp_path, opset=str(build.max_opset()))
    m = onnx.load(files[MODEL_ONNX])
    assert _ops(m) == [op]
