"""frontend-onnx: SpaceToDepth's mode (opset 28), BatchNormalization with training_mode=1
(IR BatchNormTraining) and Dropout with a ratio computed at run time: converted to IR, the IR's
NumPy reference compared with onnxruntime; what cannot convert is refused with its reason."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from nnrosetta.ir import registry
from nnrosetta.rpc.errors import ConversionError
from nnrosetta_frontend_onnx import OnnxConverter
from tests.frontend_onnx._models import (
    check_against_ort,
    init,
    make,
    model_for,
    need_ir,
    ort_run,
    rng,
    save,
    scaled_error,
    to_ir,
)

H = helper.make_node
r = rng(11)


def _ops(graph):
    return [n.op for n in graph.nodes if n.op not in ("Input", "Constant")]


# -- SpaceToDepth -----------------------------------------------------------------------------

@pytest.mark.parametrize("opset,mode", [(13, None), (28, None), (28, "DCR"), (28, "CRD")])
def test_space_to_depth_mode(opset, mode, tmp_path):
    need_ir("SpaceToDepth")
    attrs = {"blocksize": 2} | ({"mode": mode} if mode else {})
    m = make([H("SpaceToDepth", ["x"], ["y"], **attrs)], {"x": [2, 3, 4, 6]}, {"y": None},
             opset=opset)
    g = check_against_ort(m, tmp_path, tol=0.0)
    (n,) = [n for n in g.nodes if n.op == "SpaceToDepth"]
    assert n.attrs["mode"] == (mode or "DCR")


def test_space_to_depth_crd_differs_from_dcr(tmp_path):
    """The failure this fixes: CRD read as DCR gave other channel orders."""
    outs = []
    for mode in ("DCR", "CRD"):
        m = make([H("SpaceToDepth", ["x"], ["y"], blocksize=2, mode=mode)],
                 {"x": [1, 2, 4, 6]}, {"y": None}, opset=28)
        g, w = to_ir(m, tmp_path / mode)
        x = np.arange(48, dtype=np.float32).reshape(1, 2, 4, 6)
        outs.append(registry.run_reference(g, w, {g.inputs[0].name: x})[g.outputs[0]])
    assert not np.array_equal(*outs)
    assert sorted(outs[0].ravel()) == sorted(outs[1].ravel())


# -- BatchNormalization training_mode=1 -------------------------------------------------------

def _bn_model(opset: int, stats_as_inputs: bool, outputs=("y", "rm", "rv"), c=3,
              x=(2, 3, 4, 5), **attrs):
    node = H("BatchNormalization", ["x", "s", "b", "m", "v"], list(outputs), training_mode=1,
             **attrs)
    params = {"s": r(c), "b": r(c), "m": r(c), "v": np.abs(r(c)) + 0.5}
    if stats_as_inputs:
        inputs = {"x": list(x)} | {k: [c] for k in params}
        inits = []
    else:
        inputs = {"x": list(x)}
        inits = [init(k, v) for k, v in params.items()]
    outs = {o: None for o in outputs if o}
    return make([node], inputs, outs, inits, opset), params


def _compare(m, tmp_path, feeds: dict[str, np.ndarray], tol: float = 1e-5):
    """IR reference vs onnxruntime on every graph output, matched by the output's position
    (the running statistics are outputs 1 and 2 of one IR node)."""
    g, w = to_ir(m, tmp_path)
    src = {n.attrs["_source_name"]: n.name for n in g.inputs}
    want = ort_run(m, feeds)
    got = registry.run_reference(g, w, {src[k]: v for k, v in feeds.items() if k in src})
    assert len(g.outputs) == len(m.graph.output)
    for ref, o in zip(g.outputs, m.graph.output, strict=True):
        assert got[ref].shape == want[o.name].shape, o.name
        assert scaled_error(want[o.name], got[ref]) <= tol, o.name
    return g


@pytest.mark.parametrize("opset", [14, 15])
@pytest.mark.parametrize("stats_as_inputs", [False, True])
def test_batch_norm_training_mode(opset, stats_as_inputs, tmp_path):
    need_ir("BatchNormTraining")
    m, params = _bn_model(opset, stats_as_inputs, epsilon=1e-2, momentum=0.8)
    feeds = {"x": r(2, 3, 4, 5)} | (params if stats_as_inputs else {})
    g = _compare(m, tmp_path, feeds)
    (n,) = [n for n in g.nodes if n.op == "BatchNormTraining"]
    assert abs(n.attrs["momentum"] - 0.2) < 1e-6 and abs(n.attrs["epsilon"] - 1e-2) < 1e-7
    assert g.outputs == [n.name, f"{n.name}:1", f"{n.name}:2"]
    assert (len(n.inputs) == 5) == stats_as_inputs


def test_batch_norm_training_mode_y_only_and_3d(tmp_path):
    """Training mode names all three outputs; only y read."""
    m, _ = _bn_model(15, False, c=4, x=(3, 4, 6))
    del m.graph.output[1:]
    g = _compare(m, tmp_path, {"x": r(3, 4, 6)})
    assert _ops(g) == ["BatchNormTraining"] and g.outputs == [g.nodes[-1].name]


def test_batch_norm_training_mode_running_var_only(tmp_path):
    """An omitted running_mean output (onnxruntime crashes on that model: the values come
    from the same model with all three outputs)."""
    m, _ = _bn_model(15, False, outputs=("y", "", "rv"))
    full = helper.make_model(m.graph, opset_imports=m.opset_import)
    full.graph.node[0].output[1] = "rm"
    full.graph.output.insert(1, helper.make_tensor_value_info("rm", TensorProto.FLOAT, None))
    x = r(2, 3, 4, 5)
    want = ort_run(full, {"x": x})
    g, w = to_ir(m, tmp_path)
    assert [ref.split(":")[-1] for ref in g.outputs[1:]] == ["2"]
    got = registry.run_reference(g, w, {g.inputs[0].name: x})
    assert scaled_error(want["y"], got[g.outputs[0]]) <= 1e-5
    assert scaled_error(want["rv"], got[g.outputs[1]]) <= 1e-5


def test_batch_norm_inference_unchanged(tmp_path):
    m = make([H("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], training_mode=0)],
             {"x": [1, 3, 4, 4]}, {"y": None},
             [init("s", r(3)), init("b", r(3)), init("m", r(3)), init("v", np.abs(r(3)) + 1)],
             15)
    assert _ops(check_against_ort(m, tmp_path)) == ["BatchNorm"]


# -- Dropout ----------------------------------------------------------------------------------

def _dropout_model(opset: int, training=None, mask: bool = False, ratio_input=True):
    """Dropout(x, r[, t]) with r a graph input; training: None (absent), a bool (an
    initializer) or "input" (a graph input)."""
    ins = ["x", "r" if ratio_input else ""]
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4, 5])]
    if ratio_input:
        inputs.append(helper.make_tensor_value_info("r", TensorProto.FLOAT, []))
    inits = []
    nodes = []
    if training is not None:
        ins.append("t")
        if training == "input":   # computed at run time: Greater(f, 0) of a float input f
            inputs.append(helper.make_tensor_value_info("f", TensorProto.FLOAT, []))
            inits.append(init("zero", np.float32(0)))
            nodes.append(H("Greater", ["f", "zero"], ["t"]))
        else:
            inits.append(init("t", np.array(training)))
    outs = ["y", "mask"] if mask else ["y"]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4, 5])]
    if mask:
        outputs.append(helper.make_tensor_value_info("mask", TensorProto.BOOL, [3, 4, 5]))
    g = helper.make_graph(nodes + [H("Dropout", ins, outs, seed=0)], "g", inputs, outputs,
                          inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


@pytest.mark.parametrize("opset", [12, 13, 22])
@pytest.mark.parametrize("training", [None, False])
def test_dropout_runtime_ratio_is_identity(opset, training, tmp_path):
    m = _dropout_model(opset, training)
    x = r(3, 4, 5)
    g, w = to_ir(m, tmp_path)
    assert _ops(g) == ["Dropout"]
    assert g.nodes[-1].attrs["ratio"] == 0.5         # the default: unknown until run time
    feeds = {n.name: (x if n.attrs["_source_name"] == "x" else np.float32(0.7))
             for n in g.inputs}
    got = registry.run_reference(g, w, feeds)[g.outputs[0]]
    np.testing.assert_array_equal(got, x)
    want = ort_run(m, {"x": x, "r": np.array(0.7, np.float32)})["y"]
    np.testing.assert_array_equal(got, want)


def test_dropout_training_with_zero_ratio_is_identity(tmp_path):
    m = make([H("Dropout", ["x", "r", "t"], ["y"])], {"x": [2, 3]}, {"y": None},
             [init("r", np.float32(0.0)), init("t", np.array(True))], 13)
    assert _ops(check_against_ort(m, tmp_path, tol=0.0)) == ["Dropout"]


def _issues(m, tmp_path) -> list[str]:
    issues, _ = OnnxConverter().check(model_for(save(m, tmp_path)))
    return [f"{i.code}: {i.message}" for i in issues]


@pytest.mark.parametrize("training,ratio_input,expect", [
    (True, True, "training_mode=true"),
    (True, False, "training_mode=true"),
    ("input", True, "training_mode 't' is computed at run time"),
])
def test_dropout_refusals(training, ratio_input, expect, tmp_path):
    m = _dropout_model(13, training, ratio_input=ratio_input)
    issues = _issues(m, tmp_path)
    assert len(issues) == 1 and expect in issues[0], issues
    with pytest.raises(ConversionError, match="Dropout"):
        to_ir(m, tmp_path / "to_ir")


def test_dropout_mask_output_is_refused(tmp_path):
    m = _dropout_model(13, True, mask=True)
    issues = _issues(m, tmp_path)
    assert len(issues) == 1 and "'mask'" in issues[0], issues
