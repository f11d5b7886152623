"""Small IR graphs for the backend-onnx tests: the backend-pytorch table (the original ops)
plus one or a few graphs per op added for ONNX."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnrosetta.ir.graph import Node
from tests.backend_pytorch._cases import CASES as BASE_CASES
from tests.backend_pytorch._cases import feeds, graph, inp, multi, rand, single

__all__ = ["CASES", "feeds", "graph", "inp", "rand"]

UNARY = ["Neg", "Exp", "Sqrt", "Log", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin",
         "Cos", "Tan", "Atan", "Sinh", "Cosh", "Asinh", "Erf", "Softplus", "Softsign", "Mish",
         "HardSwish"]
POSITIVE = {"Sqrt", "Log", "Reciprocal"}            # inputs made positive (abs + 0.1)
UNIT = {"Asin", "Acos", "Atanh"}                    # inputs squashed into (-1, 1)


def unary(op: str, attrs: dict | None = None, pre: str = "") -> Callable:
    """Input -> (a pre-op that puts values in the domain) -> op."""
    def make():
        nodes = [inp()]
        src = "data"
        if pre == "positive":
            nodes += [Node("abs", "Abs", ["data"]),
                      Node("pos", "Power", ["abs"], {"shift": 0.1})]
            src = "pos"
        elif pre == "unit":
            nodes.append(Node("unit", "Tanh", ["data"]))
            src = "unit"
        elif pre == "above1":
            nodes += [Node("abs", "Abs", ["data"]), Node("pos", "Power", ["abs"],
                                                         {"shift": 1.1})]
            src = "pos"
        nodes.append(Node("n", op, [src], dict(attrs or {})))
        return graph(nodes, {}, outputs=["n"])
    return make


def const_case(op: str, attrs: dict, value: np.ndarray, shape=(2, 3, 8, 8)) -> Callable:
    """Input X and a Constant as the second input."""
    def make():
        nodes = [inp(shape=shape), Node("c", "Constant", []),
                 Node("n", op, ["data", "c"], attrs)]
        return graph(nodes, {"c.value": value}, outputs=["n"])
    return make


def binary(op: str, positive_a: bool = False) -> Callable:
    def make():
        nodes = [inp("a"), inp("b", [3, 1, 8])]
        a = "a"
        if positive_a:
            nodes += [Node("abs", "Abs", ["a"]), Node("pos", "Power", ["abs"], {"shift": 0.5})]
            a = "pos"
        nodes.append(Node("y", op, [a, "b"]))
        return graph(nodes, {}, outputs=["y"])
    return make


def norm(op: str, attrs: dict, weights: dict, shape=(2, 4, 5, 6)) -> Callable:
    return single(op, attrs, weights, shape=list(shape))


NEW: dict[str, Callable] = {}
for _op in UNARY:
    NEW[f"unary_{_op}"] = unary(_op, pre="positive" if _op in POSITIVE else "")
for _op in UNIT:
    NEW[f"unary_{_op}"] = unary(_op, pre="unit")
NEW["unary_Acosh"] = unary("Acosh", pre="above1")
NEW.update({
    "hard_sigmoid": unary("HardSigmoid", {"alpha": 0.3, "beta": 0.4}),
    "selu": unary("Selu"),
    "celu": unary("Celu", {"alpha": 0.7}),
    "thresholded_relu": unary("ThresholdedRelu", {"alpha": 0.3}),
    "gelu": unary("Gelu"),
    "gelu_tanh": unary("Gelu", {"approximate": "tanh"}),
    "clip": unary("Clip", {"min": -0.5, "max": 0.7}),
    "clip_min_only": unary("Clip", {"min": 0.0}),
    "shrink": unary("Shrink", {"bias": 0.1, "lambd": 0.4}),
    "sub": binary("Sub"),
    "div": binary("Div"),
    "pow": binary("Pow", positive_a=True),
    "min": multi("Min", 3),
    "mean": multi("Mean", 2),
    "sum": multi("Sum", 3),
    "matmul_const": const_case("MatMul", {}, rand(8, 5)),
    "matmul_batched": lambda: graph([inp("a", [2, 3, 4, 5]), inp("b", [3, 5, 6]),
                                     Node("y", "MatMul", ["a", "b"])], {}),
    "gemm": lambda: graph([inp("a", [4, 6]), Node("b", "Constant", []),
                           Node("c", "Constant", []),
                           Node("y", "Gemm", ["a", "b", "c"],
                                {"alpha": 0.5, "beta": 2.0, "transB": True})],
                          {"b.value": rand(3, 6), "c.value": rand(3)}, outputs=["y"]),
    "transpose": single("Transpose", {"perm": [0, 2, 3, 1]}),
    "transpose_reverse": single("Transpose", {}),
    "squeeze": single("Squeeze", {"axes": [1]}, shape=[2, 1, 4, 1]),
    "squeeze_all": single("Squeeze", {}, shape=[2, 1, 4, 1]),
    "unsqueeze": single("Unsqueeze", {"axes": [0, -1]}),
    "slice": single("Slice", {"starts": [1, -5], "ends": [3, 2**31 - 1], "axes": [1, 3]}),
    "slice_steps": single("Slice", {"starts": [-1, 0], "ends": [-(2**31), 8], "axes": [2, 3],
                                    "steps": [-2, 3]}),
    "gather": const_case("Gather", {"axis": 1}, np.array([2, 0, -1], np.int64)),
    "gather_scalar": const_case("Gather", {"axis": 3}, np.array(4, np.int64)),
    "pad_constant": single("Pad", {"pads": [0, 0, 1, 2, 0, 1, 3, 0], "value": 1.5}),
    "pad_reflect": single("Pad", {"pads": [0, 0, 2, 1, 0, 0, 1, 2], "mode": "reflect"}),
    "pad_edge": single("Pad", {"pads": [0, 0, 2, 1, 0, 0, 1, 2], "mode": "edge"}),
    "argmax": single("ArgMax", {"axis": 1}),
    "argmin_last": single("ArgMin", {"axis": -1, "keepdims": False,
                                     "select_last_index": True}),
    "log_softmax": single("LogSoftmax", {"axis": 1}),
    "hardmax": single("Hardmax", {"axis": -1}),
    "instance_norm": norm("InstanceNormalization", {"epsilon": 1e-3},
                          {"scale": lambda: rand(4), "bias": lambda: rand(4)}),
    "layer_norm": norm("LayerNormalization", {"axis": 2},
                       {"scale": lambda: rand(5, 6), "bias": lambda: rand(5, 6)}),
    "layer_norm_no_bias": norm("LayerNormalization", {}, {"scale": lambda: rand(6)}),
    "group_norm": norm("GroupNormalization", {"num_groups": 2},
                       {"scale": lambda: rand(4), "bias": lambda: rand(4)}),
    "expand": single("Expand", {"shape": [3, 2, 1, 8, 8]}, shape=[2, 1, 8, 1]),
    "tile": single("Tile", {"repeats": [1, 2, 1, 3]}),
    "depth_to_space": single("DepthToSpace", {"blocksize": 2}, shape=[1, 8, 3, 3]),
    "depth_to_space_crd": single("DepthToSpace", {"blocksize": 2, "mode": "CRD"},
                                 shape=[1, 8, 3, 3]),
    "space_to_depth": single("SpaceToDepth", {"blocksize": 2}),
    "constant_output": lambda: graph([inp(), Node("c", "Constant", []),
                                      Node("y", "Add", ["data", "c"])],
                                     {"c.value": rand(8)}, outputs=["y", "c"]),
})
for _op in ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
            "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"):
    if _op == "ReduceLogSum":
        NEW[_op] = unary(_op, {"axes": [1, 3]}, pre="positive")
    else:
        NEW[_op] = single(_op, {"axes": [1, 3]} if _op != "ReduceMax" else
                          {"axes": [-1], "keepdims": False})
NEW["reduce_all"] = single("ReduceSum", {"keepdims": False})
NEW["reduce_noop"] = single("ReduceMean", {"noop_with_empty_axes": True})
NEW["lrn_across_even"] = single("LRN", {"size": 4, "alpha": 0.1, "beta": 0.75, "bias": 1.5})
NEW["fc_axis2"] = single("FullyConnected", {"axis": 2}, {"weight": lambda: rand(5, 64),
                                                         "bias": lambda: rand(5)})
NEW["flatten_middle"] = single("Flatten", {"axis": 2, "end_axis": 3})
NEW["pool_avg_ceil_crop"] = single("Pool", {"mode": "avg", "kernel_shape": [2, 2],
                                            "strides": [2, 2], "pads": [0, 0, 1, 1],
                                            "ceil_mode": True})

CASES: dict[str, Callable] = {**BASE_CASES, **NEW}


def pool_ceil_zoo():
    """Caffe's ceil-mode pools side by side (as the zoo's tiny_pool_ceil): onnxruntime drops a
    last window that starts in the end padding while ONNX's shape inference keeps it; in one
    graph that disagreement broke onnxruntime's buffer planning."""
    def pool(name, mode, k, s, pad=(0, 0)):
        return Node(name, "Pool", ["data"], {"mode": mode, "kernel_shape": list(k),
                                             "strides": list(s), "ceil_mode": True,
                                             "pads": [pad[0], pad[1], pad[0], pad[1]]})
    pools = [pool("max_ceil", "max", (3, 3), (2, 2)), pool("ave_ceil", "avg", (3, 3), (2, 2)),
             pool("max_pad", "max", (3, 3), (2, 2), (1, 1)),
             pool("ave_pad", "avg", (3, 3), (2, 2), (1, 1)),
             pool("ave_rect", "avg", (2, 3), (3, 2), (1, 1)),
             pool("max_drop", "max", (2, 2), (3, 3), (1, 1)),
             pool("ave_drop", "avg", (2, 2), (3, 3), (1, 1))]
    nodes = [inp(shape=[1, 4, 10, 11]), *pools]
    nodes += [Node(f"flat_{p.name}", "Flatten", [p.name]) for p in pools]
    nodes.append(Node("cat", "Concat", [f"flat_{p.name}" for p in pools]))
    return graph(nodes, {}, outputs=["cat"])


CASES["pool_ceil_zoo"] = pool_ceil_zoo
