"""Cast of computed tensors: bool results of comparisons become numbers again (the pattern of
ONNX's expanded functions, e.g. ``x * Cast(x < 0)``), through both backends."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from nnrosetta.ir.registry import run_reference
from tests.frontend_onnx._models import make, ort_run, to_ir


def test_cast_of_a_comparison_feeds_arithmetic(tmp_path):
    m = make([helper.make_node("Constant", [], ["zero"],
                               value=helper.make_tensor("z", TensorProto.FLOAT, [], [0.0])),
              helper.make_node("Less", ["x", "zero"], ["neg"]),
              helper.make_node("Cast", ["neg"], ["negf"], to=TensorProto.FLOAT),
              helper.make_node("Mul", ["x", "negf"], ["y"])],
             {"x": [2, 5]}, {"y": None}, opset=17)
    x = np.random.default_rng(0).standard_normal((2, 5)).astype(np.float32)
    want = ort_run(m, {"x": x})["y"]
    graph, weights = to_ir(m, tmp_path)
    assert "Cast" in [n.op for n in graph.nodes]
    got = run_reference(graph, weights, {graph.inputs[0].name: x})
    np.testing.assert_array_equal(next(iter(got.values())), want)
    # the ONNX backend writes a model the checker accepts (bool never reaches Mul)
    from nnrosetta_backend_onnx.build import build

    path = tmp_path / "out.onnx"
    build(graph, weights, 17, str(path))
    onnx.checker.check_model(str(path), full_check=True)
    assert np.array_equal(ort_run(onnx.load(str(path)), {graph.inputs[0].name: x})["y"], want)


def test_cast_to_an_integer_type_is_refused_clearly(tmp_path):
    import pytest

    from nnrosetta.rpc.errors import ConversionError

    m = make([helper.make_node("Cast", ["x"], ["i"], to=TensorProto.INT64),
              helper.make_node("Cast", ["i"], ["y"], to=TensorProto.FLOAT)],
             {"x": [3]}, {"y": None}, opset=17)
    with pytest.raises(ConversionError) as ei:
        to_ir(m, tmp_path)
    assert "INT64" in str(ei.value.issues)
