"""Each importer, at the opsets where its ONNX form changes: models built here with
onnx.helper, converted to IR, and the IR's NumPy reference compared with onnxruntime on the
same inputs."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from tests.frontend_onnx._models import check_against_ort, init, make, need_ir, rng

H = helper.make_node
r = rng(3)
X4 = [1, 4, 7, 7]


def _ops(graph):
    return [n.op for n in graph.nodes if n.op not in ("Input", "Constant")]


# -- Conv / ConvTranspose ---------------------------------------------------------------------

@pytest.mark.parametrize("opset", [7, 11, 17])
@pytest.mark.parametrize("attrs,wshape", [
    ({}, [6, 4, 3, 3]),
    ({"pads": [1, 0, 2, 1], "strides": [2, 1]}, [6, 4, 3, 3]),
    ({"group": 2, "dilations": [2, 2], "pads": [2, 2, 2, 2]}, [6, 2, 3, 3]),
    ({"group": 4}, [4, 1, 3, 3]),
    ({"auto_pad": "SAME_UPPER", "strides": [2, 2]}, [6, 4, 4, 4]),
    ({"auto_pad": "SAME_LOWER", "strides": [2, 2]}, [6, 4, 4, 4]),
    ({"auto_pad": "VALID"}, [6, 4, 2, 2]),
])
def test_conv(opset, attrs, wshape, tmp_path):
    m = make([H("Conv", ["x", "w", "b"], ["y"], name="c1", **attrs)], {"x": X4}, {"y": None},
             [init("w", r(*wshape)), init("b", r(wshape[0]))], opset)
    g = check_against_ort(m, tmp_path)
    assert _ops(g) == ["Conv"] and g.node("c1").attrs["_source_name"] == "y"


def test_conv_without_bias_and_4d_spatial_is_refused(tmp_path):
    m = make([H("Conv", ["x", "w"], ["y"])], {"x": X4}, {"y": None}, [init("w", r(2, 4, 1, 1))])
    check_against_ort(m, tmp_path / "a")
    m1 = make([H("Conv", ["x", "w"], ["y"])], {"x": [1, 4, 9]}, {"y": None},
              [init("w", r(2, 4, 3))])
    check_against_ort(m1, tmp_path / "b")  # 1-D (N, C, W) converts
    m4 = make([H("Conv", ["x", "w"], ["y"])], {"x": [1, 2, 3, 3, 3, 3]}, {"y": None},
              [init("w", r(2, 2, 1, 1, 1, 1))])
    from nnrosetta.rpc.errors import ConversionError
    with pytest.raises(ConversionError, match="1 to 3 spatial axes"):
        check_against_ort(m4, tmp_path / "c")


@pytest.mark.parametrize("opset", [9, 11, 17])
@pytest.mark.parametrize("attrs,wshape", [
    ({"strides": [2, 2]}, [4, 3, 3, 3]),
    ({"strides": [2, 2], "pads": [1, 1, 1, 1], "output_padding": [1, 1]}, [4, 3, 3, 3]),
    ({"group": 2, "strides": [2, 1], "dilations": [1, 2]}, [4, 2, 3, 3]),
    ({"strides": [2, 2], "output_shape": [15, 15]}, [4, 3, 3, 3]),
    ({"strides": [2, 2], "auto_pad": "SAME_UPPER"}, [4, 3, 3, 3]),
])
def test_conv_transpose(opset, attrs, wshape, tmp_path):
    b = wshape[1] * attrs.get("group", 1)
    m = make([H("ConvTranspose", ["x", "w", "b"], ["y"], **attrs)], {"x": X4}, {"y": None},
             [init("w", r(*wshape)), init("b", r(b))], opset)
    assert _ops(check_against_ort(m, tmp_path)) == ["ConvTranspose"]


# -- pooling ----------------------------------------------------------------------------------

POOL_CASES = [
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2]}),
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}),
    ("MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}),
    ("AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2]}),
    ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}),
    ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 1}),
    ("AveragePool", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    ("AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1],
                     "ceil_mode": 1, "count_include_pad": 1}),
]


@pytest.mark.parametrize("opset,op,attrs", [
    (o, op, a) for o in (8, 10, 12, 19) for op, a in POOL_CASES
    if o >= 10 or "ceil_mode" not in a])   # ceil_mode exists from opset 10
def test_pool(opset, op, attrs, tmp_path):
    m = make([H(op, ["x"], ["y"], **attrs)], {"x": X4}, {"y": None}, opset=opset)
    assert _ops(check_against_ort(m, tmp_path)) == ["Pool"]


@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
def test_global_pool(op, tmp_path):
    m = make([H(op, ["x"], ["y"])], {"x": X4}, {"y": None}, opset=11)
    g = check_against_ort(m, tmp_path)
    assert g.nodes[-1].attrs["global_pooling"] is True


def test_pool_dilations(tmp_path):
    """IR Pool has dilations (more in test_importers_pool_nd.py)."""
    m = make([H("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], dilations=[2, 2])], {"x": X4},
             {"y": None}, opset=12)
    g = check_against_ort(m, tmp_path)
    assert [n.attrs.get("dilations") for n in g.nodes if n.op == "Pool"] == [[2, 2]]


# -- BatchNormalization -----------------------------------------------------------------------

@pytest.mark.parametrize("opset", [7, 9, 14, 15])
def test_batch_norm(opset, tmp_path):
    m = make([H("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3,
                momentum=0.8)], {"x": X4}, {"y": None},
             [init("s", r(4)), init("b", r(4)), init("m", r(4)),
              init("v", np.abs(r(4)) + 0.5)], opset)
    g = check_against_ort(m, tmp_path)
    bn = g.nodes[-1]
    assert bn.op == "BatchNorm" and abs(bn.attrs["momentum"] - 0.2) < 1e-6


# -- Gemm / MatMul ----------------------------------------------------------------------------

GEMM_CASES = [
    ({"transB": 1}, [5, 6], [5], "FullyConnected"),
    ({}, [6, 5], [1, 5], "FullyConnected"),
    ({"alpha": 0.5, "beta": 2.0, "transB": 1}, [5, 6], [5], "FullyConnected"),
    ({}, [6, 5], None, "FullyConnected"),
    ({}, [6, 5], [3, 5], "Gemm"),
    ({"transA": 1}, [6, 5], [5], "Gemm"),
]


@pytest.mark.parametrize("opset,attrs,bshape,cshape,ir", [
    (o, *c) for o in (7, 11, 13) for c in GEMM_CASES
    if o >= 11 or c[2] is not None])   # C is optional from opset 11
def test_gemm(opset, attrs, bshape, cshape, ir, tmp_path):
    a = [6, 3] if attrs.get("transA") else [3, 6]
    inits = [init("B", r(*bshape))]
    ins = ["a", "B"]
    if cshape is not None:
        inits.append(init("C", r(*cshape)))
        ins.append("C")
    if ir == "Gemm":
        need_ir("Gemm")
    m = make([H("Gemm", ins, ["y"], **attrs)], {"a": a}, {"y": None}, inits, opset)
    assert ir in _ops(check_against_ort(m, tmp_path))


def test_matmul(tmp_path):
    m = make([H("MatMul", ["a", "B"], ["y"])], {"a": [2, 3, 6]}, {"y": None},
             [init("B", r(6, 4))], 13)
    g = check_against_ort(m, tmp_path / "fc")
    assert _ops(g) == ["FullyConnected"] and g.nodes[-1].attrs["axis"] == 2
    need_ir("MatMul")
    m = make([H("MatMul", ["a", "b"], ["y"])], {"a": [2, 3, 6], "b": [2, 6, 4]}, {"y": None},
             opset=13)
    assert _ops(check_against_ort(m, tmp_path / "mm")) == ["MatMul"]


# -- activations ------------------------------------------------------------------------------

@pytest.mark.parametrize("op,attrs,opset,ir", [
    ("Relu", {}, 7, "Relu"), ("Relu", {}, 14, "Relu"),
    ("LeakyRelu", {"alpha": 0.2}, 7, "LeakyRelu"), ("LeakyRelu", {}, 16, "LeakyRelu"),
    ("Elu", {"alpha": 0.7}, 7, "Elu"), ("Sigmoid", {}, 13, "Sigmoid"),
    ("Tanh", {}, 13, "Tanh"), ("Selu", {}, 7, "Selu"),
    ("Selu", {"alpha": 1.5, "gamma": 1.1}, 7, "Selu"),
    ("HardSigmoid", {"alpha": 0.3}, 7, "HardSigmoid"), ("Softplus", {}, 7, "Softplus"),
    ("Softsign", {}, 7, "Softsign"), ("Celu", {"alpha": 0.5}, 12, "Celu"),
    ("ThresholdedRelu", {"alpha": 0.3}, 10, "ThresholdedRelu"),
    ("Shrink", {"bias": 0.1, "lambd": 0.4}, 9, "Shrink"), ("HardSwish", {}, 14, "HardSwish"),
    ("Mish", {}, 18, "Mish"), ("Gelu", {}, 20, "Gelu"),
    ("Gelu", {"approximate": "tanh"}, 20, "Gelu"),
])
def test_activation(op, attrs, opset, ir, tmp_path):
    need_ir(ir)
    m = make([H(op, ["x"], ["y"], **attrs)], {"x": X4}, {"y": None}, opset=opset)
    assert _ops(check_against_ort(m, tmp_path)) == [ir]


@pytest.mark.parametrize("slope", [[4, 1, 1], [1], []])
def test_prelu(slope, tmp_path):
    m = make([H("PRelu", ["x", "s"], ["y"])], {"x": X4}, {"y": None},
             [init("s", np.abs(r(*slope)) if slope else np.float32(0.25))], 9)
    assert _ops(check_against_ort(m, tmp_path)) == ["PRelu"]


UNARY = {"Abs": 7, "Neg": 7, "Exp": 7, "Log": 7, "Sqrt": 7, "Reciprocal": 7, "Floor": 7,
         "Ceil": 7, "Round": 11, "Sign": 9, "Sin": 7, "Cos": 7, "Tan": 7, "Asin": 7,
         "Acos": 7, "Atan": 7, "Sinh": 9, "Cosh": 9, "Asinh": 9, "Acosh": 9, "Atanh": 9,
         "Erf": 9}
POSITIVE = {"Log", "Sqrt", "Reciprocal"}
UNIT = {"Asin", "Acos", "Atanh"}


@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary(op, tmp_path):
    need_ir(op)
    x = r(*X4)
    if op in POSITIVE:
        x = np.abs(x) + 0.5
    elif op in UNIT:
        x = np.tanh(x) * 0.9
    elif op == "Acosh":
        x = np.abs(x) + 1.1
    elif op == "Round":
        x = x * 3
    x = x.astype(np.float32)
    m = make([H(op, ["x"], ["y"])], {"x": X4}, {"y": None}, opset=max(UNARY[op], 13))
    assert _ops(check_against_ort(m, tmp_path, {"x": x})) == [op]


# -- softmax family ---------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax", "Hardmax"])
@pytest.mark.parametrize("opset,axis,shape", [
    (11, 1, [2, 3, 4, 5]), (11, 3, [2, 3, 4, 5]), (11, None, [2, 10]), (11, 1, [2, 5, 1, 1]),
    (13, 1, [2, 3, 4, 5]), (13, None, [2, 3, 4, 5]), (13, -2, [2, 3, 4]),
])
def test_softmax(op, opset, axis, shape, tmp_path):
    need_ir({"Softmax": "Softmax", "LogSoftmax": "LogSoftmax", "Hardmax": "Hardmax"}[op])
    attrs = {} if axis is None else {"axis": axis}
    m = make([H(op, ["x"], ["y"], **attrs)], {"x": shape}, {"y": None}, opset=opset)
    g = check_against_ort(m, tmp_path)
    if opset < 13 and axis == 1 and shape[2:] != [1, 1]:
        assert _ops(g) == ["Flatten", op, "Reshape"]   # the 2-D coercion of opset < 13
    else:
        assert len(_ops(g)) == 1


# -- elementwise ------------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div"])
@pytest.mark.parametrize("opset", [7, 13, 14])
def test_binary(op, opset, tmp_path):
    need_ir(op)
    m = make([H(op, ["x", "c"], ["t"]), H(op, ["t", "z"], ["y"])], {"x": X4, "z": [1, 7]},
             {"y": None}, [init("c", np.abs(r(4, 1, 1)) + 0.5)], opset)
    check_against_ort(m, tmp_path)


def test_pow(tmp_path):
    m = make([H("Pow", ["x", "e"], ["y"])], {"x": X4}, {"y": None},
             [init("e", np.float32(2.0))], 13)
    assert _ops(check_against_ort(m, tmp_path / "a", {"x": np.abs(r(*X4)) + 0.1})) == ["Power"]
    need_ir("Pow")
    m = make([H("Pow", ["x", "e"], ["y"])], {"x": X4, "e": [4, 1, 1]}, {"y": None}, opset=13)
    feeds = {"x": np.abs(r(*X4)) + 0.1, "e": r(4, 1, 1)}
    assert _ops(check_against_ort(m, tmp_path / "b", feeds)) == ["Pow"]


@pytest.mark.parametrize("op,ir", [("Max", "Max"), ("Min", "Min"), ("Mean", "Mean"),
                                   ("Sum", "Add")])
@pytest.mark.parametrize("opset", [8, 13])
def test_variadic(op, ir, opset, tmp_path):
    need_ir(ir)
    m = make([H(op, ["a", "b", "c"], ["y"])], {"a": X4, "b": [4, 1, 1], "c": [1, 1, 7]},
             {"y": None}, opset=opset)
    assert _ops(check_against_ort(m, tmp_path)) == [ir]


# -- structure --------------------------------------------------------------------------------

def test_concat_with_constant(tmp_path):
    need_ir("Constant")
    m = make([H("Concat", ["x", "k", "x"], ["y"], axis=1)], {"x": X4}, {"y": None},
             [init("k", r(1, 2, 7, 7))], 11)
    g = check_against_ort(m, tmp_path)
    assert [n.op for n in g.nodes] == ["Input", "Constant", "Concat"]


@pytest.mark.parametrize("axis,opset", [(0, 9), (1, 9), (2, 11), (-1, 13), (4, 13)])
def test_flatten(axis, opset, tmp_path):
    m = make([H("Flatten", ["x"], ["y"], axis=axis)], {"x": X4}, {"y": None}, opset=opset)
    g = check_against_ort(m, tmp_path)
    assert _ops(g) == (["Flatten"] if axis == 1 else ["Reshape"])


@pytest.mark.parametrize("shape", [[0, -1], [1, 4, 49], [-1, 7], [0, 2, 2, 0, 7]])
def test_reshape(shape, tmp_path):
    m = make([H("Reshape", ["x", "s"], ["y"])], {"x": X4}, {"y": None},
             [init("s", np.array(shape, np.int64))], 13)
    g = check_against_ort(m, tmp_path)
    assert g.nodes[-1].attrs["shape"] == shape


@pytest.mark.parametrize("perm", [[0, 2, 3, 1], None])
def test_transpose(perm, tmp_path):
    need_ir("Transpose")
    attrs = {} if perm is None else {"perm": perm}
    m = make([H("Transpose", ["x"], ["y"], **attrs)], {"x": [1, 2, 3, 4]}, {"y": None},
             opset=13)
    check_against_ort(m, tmp_path)


@pytest.mark.parametrize("opset", [11, 13])
def test_squeeze_unsqueeze(opset, tmp_path):
    need_ir("Squeeze", "Unsqueeze")
    if opset < 13:
        nodes = [H("Unsqueeze", ["x"], ["u"], axes=[0, -1]), H("Squeeze", ["u"], ["y"],
                                                                axes=[0, 4])]
        inits = []
    else:
        nodes = [H("Unsqueeze", ["x", "ua"], ["u"]), H("Squeeze", ["u", "sa"], ["y"]),
                 H("Squeeze", ["u"], ["y2"])]
        inits = [init("ua", np.array([0, -1], np.int64)), init("sa", np.array([0, 4]))]
    outs = {"y": None, "y2": None} if opset >= 13 else {"y": None}
    m = make(nodes, {"x": [2, 1, 3]}, outs, inits, opset)
    check_against_ort(m, tmp_path)


@pytest.mark.parametrize("opset", [9, 10, 13])
def test_slice(opset, tmp_path):
    need_ir("Slice")
    if opset < 10:
        nodes = [H("Slice", ["x"], ["y"], starts=[1, -3], ends=[3, 2**62], axes=[1, 3])]
        inits = []
    else:
        nodes = [H("Slice", ["x", "s", "e", "a", "st"], ["y"])]
        inits = [init("s", np.array([1, -1], np.int64)), init("e", np.array([3, -2**63])),
                 init("a", np.array([1, -1])), init("st", np.array([1, -2]))]
    m = make(nodes, {"x": X4}, {"y": None}, inits, opset)
    check_against_ort(m, tmp_path)


@pytest.mark.parametrize("indices", [np.array(2, np.int64), np.array([[0, 3], [-1, 1]])])
def test_gather(indices, tmp_path):
    need_ir("Gather", "Constant")
    m = make([H("Gather", ["x", "i"], ["y"], axis=1)], {"x": X4}, {"y": None},
             [init("i", indices)], 13)
    check_against_ort(m, tmp_path)


@pytest.mark.parametrize("opset,mode", [(7, "constant"), (11, "reflect"), (13, "edge"),
                                        (18, "constant"), (19, "wrap")])
def test_pad(opset, mode, tmp_path):
    need_ir("Pad")
    if opset < 11:
        nodes = [H("Pad", ["x"], ["y"], pads=[0, 0, 1, 2, 0, 0, 2, 1], mode=mode, value=1.5)]
        inits = []
    elif opset < 18:
        nodes = [H("Pad", ["x", "p", "v"], ["y"], mode=mode)]
        inits = [init("p", np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64)),
                 init("v", np.float32(0.5))]
    else:
        nodes = [H("Pad", ["x", "p", "", "a"], ["y"], mode=mode)]
        inits = [init("p", np.array([1, 2, 2, 1], np.int64)), init("a", np.array([2, -1]))]
    m = make(nodes, {"x": X4}, {"y": None}, inits, opset)
    check_against_ort(m, tmp_path)


@pytest.mark.parametrize("opset", [7, 11, 13])
def test_clip(opset, tmp_path):
    need_ir("Clip")
    if opset < 11:
        nodes = [H("Clip", ["x"], ["y"], min=0.0, max=6.0)]
        inits = []
    elif opset == 11:
        nodes = [H("Clip", ["x", "lo", "hi"], ["y"])]
        inits = [init("lo", np.float32(-0.5)), init("hi", np.float32(0.5))]
    else:
        nodes = [H("Clip", ["x", "", "hi"], ["y"])]
        inits = [init("hi", np.float32(0.3))]
    m = make(nodes, {"x": X4}, {"y": None}, inits, opset)
    assert _ops(check_against_ort(m, tmp_path)) == ["Clip"]


@pytest.mark.parametrize("opset", [7, 12, 13])
def test_dropout_identity(opset, tmp_path):
    ins = ["x", "ratio"] if opset >= 12 else ["x"]
    inits = [init("ratio", np.float32(0.3))] if opset >= 12 else []
    m = make([H("Dropout", ins, ["d"]), H("Identity", ["d"], ["y"])], {"x": X4}, {"y": None},
             inits, opset)
    g = check_against_ort(m, tmp_path)
    assert _ops(g) == ["Dropout", "Identity"]
    if opset >= 12:
        assert abs(g.nodes[1].attrs["ratio"] - 0.3) < 1e-6


def test_lrn(tmp_path):
    m = make([H("LRN", ["x"], ["y"], size=3, alpha=1e-2, beta=0.6, bias=2.0)], {"x": X4},
             {"y": None}, opset=13)
    assert _ops(check_against_ort(m, tmp_path)) == ["LRN"]


REDUCE = ["ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
          "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"]


@pytest.mark.parametrize("op", REDUCE)
@pytest.mark.parametrize("opset,keepdims", [(11, 1), (13, 0), (18, 1)])
def test_reduce(op, opset, keepdims, tmp_path):
    need_ir(op)
    axes_input = opset >= 18 or (op == "ReduceSum" and opset >= 13)
    if axes_input:
        nodes = [H(op, ["x", "a"], ["y"], keepdims=keepdims)]
        inits = [init("a", np.array([1, -1], np.int64))]
    else:
        nodes = [H(op, ["x"], ["y"], axes=[1, -1], keepdims=keepdims)]
        inits = []
    x = np.abs(r(*X4)) + 0.1 if op == "ReduceLogSum" else r(*X4) * 0.5
    m = make(nodes, {"x": X4}, {"y": None}, inits, opset)
    check_against_ort(m, tmp_path, {"x": x.astype(np.float32)}, tol=1e-5)


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
def test_argmax(op, tmp_path):
    need_ir(op)
    g = helper.make_graph([H(op, ["x"], ["y"], axis=1, keepdims=0)], "g",
                          [helper.make_tensor_value_info("x", 1, X4)],
                          [helper.make_tensor_value_info("y", 7, None)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    check_against_ort(m, tmp_path)


def test_instance_and_layer_norm(tmp_path):
    need_ir("InstanceNormalization", "LayerNormalization")
    m = make([H("InstanceNormalization", ["x", "s", "b"], ["i"], epsilon=1e-4),
              H("LayerNormalization", ["i", "ls", "lb"], ["y"], axis=-2)],
             {"x": X4}, {"y": None},
             [init("s", r(4)), init("b", r(4)), init("ls", r(7, 1)), init("lb", r(7))], 17)
    check_against_ort(m, tmp_path)


@pytest.mark.parametrize("opset", [18, 21])
def test_group_norm(opset, tmp_path):
    need_ir("GroupNormalization")
    n = 2 if opset == 18 else 4
    m = make([H("GroupNormalization", ["x", "s", "b"], ["y"], num_groups=2)], {"x": X4},
             {"y": None}, [init("s", r(n)), init("b", r(n))], opset)
    check_against_ort(m, tmp_path)


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_split(opset, tmp_path):
    need_ir("Split")
    if opset < 13:
        nodes = [H("Split", ["x"], ["a", "b"], axis=2, split=[3, 4])]
        inits = []
    elif opset < 18:
        nodes = [H("Split", ["x", "s"], ["a", "b"], axis=2)]
        inits = [init("s", np.array([3, 4], np.int64))]
    else:
        nodes = [H("Split", ["x"], ["a", "b"], axis=2, num_outputs=2)]
        inits = []
    m = make(nodes, {"x": X4}, {"a": None, "b": None}, inits, opset)
    g = check_against_ort(m, tmp_path)
    assert g.node(g.outputs[1]).attrs["_source_name"] == "b"


def test_expand_tile_depth_space(tmp_path):
    need_ir("Expand", "Tile", "DepthToSpace", "SpaceToDepth")
    m = make([H("Expand", ["x", "s"], ["e"]), H("Tile", ["e", "t"], ["ti"]),
              H("SpaceToDepth", ["ti"], ["sd"], blocksize=2),
              H("DepthToSpace", ["sd"], ["y"], blocksize=2, mode="CRD")],
             {"x": [1, 4, 1, 4]}, {"y": None},
             [init("s", np.array([2, 4, 4, 4], np.int64)),
              init("t", np.array([1, 1, 1, 2], np.int64))], 13)
    check_against_ort(m, tmp_path)


def test_cast_of_computed_float_is_a_float32_cast(tmp_path):
    m = make([H("Relu", ["x"], ["r"]), H("Cast", ["r"], ["y"], to=1)], {"x": X4}, {"y": None},
             opset=13)
    g = check_against_ort(m, tmp_path)
    assert _ops(g) == ["Relu", "Cast"] and g.nodes[-1].attrs["to"] == "float32"
