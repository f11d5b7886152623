"""Registry: schemas are complete, validate() reports every problem at once, and whole
graphs run through infer_shapes/run_reference (compared with torch)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from _ir_check import close, t64

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Graph, Node, TensorInfo

SPEC_OPS = {
    "Input", "Conv", "ConvTranspose", "Pool", "FullyConnected", "Relu", "LeakyRelu", "PRelu",
    "Elu", "Sigmoid", "Tanh", "Abs", "Identity", "Power", "LRN", "Dropout", "Softmax",
    "Concat", "Add", "Mul", "Max", "BatchNorm", "Scale", "Flatten", "Reshape", "Split",
}
# ONNX work (issue 5), A) elementwise
SPEC_OPS |= {
    "Constant", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Floor", "Ceil", "Round", "Sign",
    "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh",
    "Erf", "Softplus", "Softsign", "Mish", "HardSwish", "HardSigmoid", "Selu", "Celu",
    "ThresholdedRelu", "Gelu", "Clip", "Shrink", "Sub", "Div", "Pow", "Min", "Mean", "Sum",
}
# ONNX work (issue 5), B) structure, reductions, normalization
SPEC_OPS |= {
    "MatMul", "Gemm", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Gather", "Pad",
    "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
    "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare", "ArgMax", "ArgMin", "LogSoftmax",
    "Hardmax", "InstanceNormalization", "LayerNormalization", "GroupNormalization", "Expand",
    "Tile", "DepthToSpace", "SpaceToDepth",
}
# ONNX work (issue 5), recurrent ops
SPEC_OPS |= {"RNN", "GRU", "LSTM"}
# attention, resampling, comparisons and logic (ONNX conformance)
SPEC_OPS |= {"Attention", "RMSNormalization", "Resize", "GridSample", "Cast", "Where", "IsInf",
             "IsNaN", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Equal", "Not", "And",
             "Or", "Xor"}
# ONNX work (issue 5), pooling and small ops
SPEC_OPS |= {"LpPool", "LpNormalization", "MeanVarianceNormalization", "Swish", "SwiGLU",
             "Mod"}
# ONNX conformance: BatchNormalization with training_mode=1
SPEC_OPS |= {"BatchNormTraining"}


def test_registry_has_the_spec_op_set():
    assert set(registry.all_ops()) == SPEC_OPS


@pytest.mark.parametrize("name", sorted(SPEC_OPS))
def test_schema_is_well_formed(name):
    s = registry.get(name)
    assert s.doc.splitlines()[0].strip(), "first docstring line says what it computes"
    if name != "Input":
        assert any(w in s.doc for w in ("Caffe", "ONNX", "PyTorch")), "names equivalents"
    for key, a in s.attrs.items():
        assert a.type in ("int", "float", "bool", "str", "ints", "floats", "strs"), key
        if not a.required:
            node = Node("n", name, [], {key: a.default})
            assert not [p for p in s.validate(node) if repr(key) in p and "must" in p], \
                f"default of {key!r} fails its own type/choices"
    for key in s.attrs:
        assert not key.startswith("_")


def test_split_counts_outputs():
    assert registry.get("Split").num_outputs({"split": [1, 2, 3]}) == 3
    assert registry.get("Conv").num_outputs({}) == 1


def _t(name, *shape):
    return TensorInfo(name, "float32", tuple(shape))


def test_validate_reports_everything_at_once():
    g = Graph(
        nodes=[
            Node("data", "Input", [], {"shape": [1, 3, 8, 8]}),
            # missing required kernel_shape; wrong type of strides; unknown attr; no weight
            Node("conv", "Conv", ["data"], {"strides": 2, "padding": [1, 1]}),
            # annotation attrs are fine; bad choice for mode
            Node("pool", "Pool", ["conv"], {"mode": "mean", "kernel_shape": [2, 2],
                                            "_source_name": "pool1"}),
            # an op that does not exist
            Node("weird", "FancyOp", ["pool"], {}),
            # reads an output that does not exist, and a node that comes later / never
            Node("split", "Split", ["pool"], {"split": [1, 2]}),
            Node("cat", "Concat", ["split:1", "split:2", "nowhere"], {"axis": 1.5}),
            # unknown weight role, missing required weights
            Node("bn", "BatchNorm", ["cat"], {}),
            Node("conv", "Relu", ["bn"], {}),
        ],
        outputs=["conv", "ghost"],
        tensors={
            "bn.mean": _t("bn.mean", 3), "bn.gamma": _t("bn.gamma", 3),
        },
    )
    problems = registry.validate(g)
    by_node: dict[str, list[str]] = {}
    for node, p in problems:
        by_node.setdefault(node, []).append(p)

    def has(node, *words):
        assert any(all(w in p for w in words) for p in by_node.get(node, [])), \
            (node, words, by_node.get(node))

    has("conv", "'kernel_shape'", "required")
    has("conv", "'strides'", "must be ints")
    has("conv", "unknown attribute", "'padding'")
    has("conv", "weight", "'weight'", "missing")
    has("pool", "'mode'", "one of")
    has("weird", "FancyOp", "not in the IR registry")
    has("cat", "split:2", "2 outputs")
    has("cat", "'nowhere'", "not produced")
    has("cat", "'axis'", "must be int")
    has("bn", "'var'", "missing")
    has("bn", "unknown weight", "'gamma'")
    has("conv", "duplicate node name")
    has("<graph>", "'ghost'")
    assert not any("_source_name" in p for p in by_node.get("pool", []))
    assert "data" not in by_node and "split" not in by_node


def test_validate_clean_graph():
    g, _ = _small_net()
    assert registry.validate(g) == []


def _small_net():
    rng = np.random.default_rng(7)

    def w(*s):
        return rng.standard_normal(s).astype(np.float32) * 0.3

    nodes = [
        Node("data", "Input", [], {"shape": [-1, 3, 16, 16]}),
        Node("conv1", "Conv", ["data"], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}),
        Node("bn1", "BatchNorm", ["conv1"], {"epsilon": 1e-5}),
        Node("relu1", "Relu", ["bn1"]),
        Node("pool1", "Pool", ["relu1"], {"mode": "max", "kernel_shape": [3, 3],
                                          "strides": [2, 2], "ceil_mode": True}),
        Node("split", "Split", ["pool1"], {"axis": 1, "split": [4, 4]}),
        Node("b1", "Conv", ["split"], {"kernel_shape": [1, 1]}),
        Node("b2", "Conv", ["split:1"], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1],
                                         "group": 2}),
        Node("sum", "Add", ["b1", "b2"], {"coeffs": [1.0, 0.5]}),
        Node("lrn", "LRN", ["sum"], {"size": 3}),
        Node("cat", "Concat", ["lrn", "split:1"], {"axis": 1}),
        Node("gap", "Pool", ["cat"], {"mode": "avg", "global_pooling": True}),
        Node("flat", "Flatten", ["gap"], {}),
        Node("fc", "FullyConnected", ["flat"], {}),
        Node("prob", "Softmax", ["fc"], {}),
    ]
    weights = {
        "conv1.weight": w(8, 3, 3, 3), "conv1.bias": w(8),
        "bn1.mean": w(8), "bn1.var": np.abs(w(8)) + 0.5, "bn1.scale": w(8), "bn1.bias": w(8),
        "b1.weight": w(6, 4, 1, 1), "b2.weight": w(6, 2, 3, 3), "b2.bias": w(6),
        "fc.weight": w(5, 10), "fc.bias": w(5),
    }
    tensors = {k: TensorInfo(k, "float32", v.shape) for k, v in weights.items()}
    return Graph(nodes, tensors=tensors), weights


def test_graph_infer_and_reference_match_torch():
    g, wts = _small_net()
    shapes = registry.infer_shapes(g)
    assert shapes["pool1"] == (1, 8, 8, 8)
    assert shapes["split:1"] == (1, 4, 8, 8)
    assert shapes["prob"] == (1, 5)
    assert g.node("prob").attrs["_output_shapes"] == [[1, 5]]

    x = np.random.default_rng(3).standard_normal((2, 3, 16, 16)).astype(np.float32)
    out = registry.run_reference(g, wts, {"data": x}, fetch=["prob", "split:1", "cat"])
    assert out["prob"].shape == (2, 5)

    def W(k):
        return t64(wts[k])

    t = F.conv2d(t64(x), W("conv1.weight"), W("conv1.bias"), padding=1)
    t = F.batch_norm(t, W("bn1.mean"), W("bn1.var"), W("bn1.scale"), W("bn1.bias"), eps=1e-5)
    t = F.max_pool2d(F.relu(t), 3, 2, ceil_mode=True)
    s0, s1 = torch.split(t, [4, 4], dim=1)
    s = F.conv2d(s0, W("b1.weight")) + 0.5 * F.conv2d(s1, W("b2.weight"), W("b2.bias"),
                                                      padding=1, groups=2)
    cat = torch.cat([F.local_response_norm(s, 3, alpha=1e-4, beta=0.75, k=1.0), s1], 1)
    prob = torch.softmax(F.linear(cat.mean(dim=(2, 3)), W("fc.weight"), W("fc.bias")), 1)
    close(out["split:1"], s1)
    close(out["cat"], cat)
    close(out["prob"], prob)


def test_reference_is_fast_enough_for_vgg_layers():
    """VGG conv3 / conv1 sized layers at batch 1 run in well under a few seconds each."""
    import time

    rng = np.random.default_rng(0)
    conv = registry.get("Conv")
    cases = [((1, 64, 224, 224), (64, 64, 3, 3)), ((1, 256, 56, 56), (256, 256, 3, 3))]
    for xs, ws in cases:
        x = rng.standard_normal(xs, dtype=np.float32)
        wts = {"weight": rng.standard_normal(ws, dtype=np.float32)}
        t0 = time.perf_counter()
        (y,) = conv.reference_fn(conv.with_defaults({"kernel_shape": [3, 3],
                                                     "pads": [1, 1, 1, 1]}), [x], wts)
        assert y.shape == (1, ws[0], xs[2], xs[3])
        assert time.perf_counter() - t0 < 20
    pool = registry.get("Pool")
    x = rng.standard_normal((1, 64, 224, 224), dtype=np.float32)
    t0 = time.perf_counter()
    pool.reference_fn(pool.with_defaults({"mode": "max", "kernel_shape": [2, 2],
                                          "strides": [2, 2]}), [x], {})
    assert time.perf_counter() - t0 < 20


def test_registry_loads_every_op_after_a_direct_op_import():
    """Importing one op module first (as an emitter reusing an op's helpers does) must not
    leave the registry with that op only."""
    import subprocess
    import sys

    code = ("import nnrosetta.ir.ops.reduce\n"
            "from nnrosetta.ir import registry\n"
            "assert registry.has('Relu') and registry.get('Input') is not None\n"
            "print(len(registry.all_ops()))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert int(out) > 80
