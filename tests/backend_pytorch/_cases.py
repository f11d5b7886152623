"""A table of small IR graphs, one (or a few) per op, for the backend-pytorch tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnrosetta.ir.graph import Graph, Node, TensorInfo

RNG = np.random.default_rng(1234)
X = [2, 3, 8, 8]


def rand(*shape: int, lo: float | None = None) -> np.ndarray:
    a = RNG.standard_normal(shape).astype(np.float32)
    if lo is not None:
        a = np.abs(a) + lo
    return a


def graph(nodes: list[Node], weights: dict[str, np.ndarray], outputs=(), metadata=None,
          ) -> tuple[Graph, dict[str, np.ndarray]]:
    tensors = {k: TensorInfo(k, str(v.dtype), tuple(v.shape)) for k, v in weights.items()}
    return Graph(nodes, list(outputs), dict(metadata or {}), tensors), weights


def inp(name: str = "data", shape=X) -> Node:
    return Node(name, "Input", [], {"shape": list(shape)})


def single(op: str, attrs: dict | None = None, weights: dict | None = None, shape=X,
           name: str = "n") -> Callable[[], tuple[Graph, dict]]:
    def make():
        ws = {f"{name}.{k}": v() if callable(v) else v for k, v in (weights or {}).items()}
        return graph([inp(shape=shape), Node(name, op, ["data"], dict(attrs or {}))], ws)
    return make


def multi(op: str, count: int, attrs: dict | None = None) -> Callable[[], tuple[Graph, dict]]:
    def make():
        nodes = [inp(f"x{i}") for i in range(count)]
        nodes.append(Node("y", op, [f"x{i}" for i in range(count)], dict(attrs or {})))
        return graph(nodes, {})
    return make


def split_case():
    nodes = [inp(), Node("sp", "Split", ["data"], {"axis": 1, "split": [1, 2]}),
             Node("r", "Relu", ["sp:1"]), Node("t", "Tanh", ["sp"])]
    return graph(nodes, {}, outputs=["r", "t"])


def caffe_like():
    """conv -> relu -> pool -> lrn -> inception-style branches -> concat -> fc -> softmax."""
    w = {
        "conv1/7x7_s2.weight": rand(8, 3, 3, 3), "conv1/7x7_s2.bias": rand(8),
        "inception_3a/1x1.weight": rand(4, 8, 1, 1), "inception_3a/1x1.bias": rand(4),
        "inception_3a/3x3.weight": rand(4, 8, 3, 3), "inception_3a/3x3.bias": rand(4),
        "loss3/classifier.weight": rand(5, 8 * 2 * 2), "loss3/classifier.bias": rand(5),
        "bn.mean": rand(8), "bn.var": rand(8, lo=0.5), "bn.scale": rand(8), "bn.bias": rand(8),
    }
    nodes = [
        inp(),
        Node("conv1/7x7_s2", "Conv", ["data"], {"kernel_shape": [3, 3], "strides": [2, 2],
                                                 "pads": [1, 1, 1, 1]}),
        Node("conv1/relu_7x7", "Relu", ["conv1/7x7_s2"]),
        Node("pool1/3x3_s2", "Pool", ["conv1/relu_7x7"], {"mode": "max", "kernel_shape": [3, 3],
                                                          "strides": [2, 2], "ceil_mode": True}),
        Node("pool1/norm1", "LRN", ["pool1/3x3_s2"], {"size": 5, "alpha": 1e-4, "beta": 0.75}),
        Node("inception_3a/1x1", "Conv", ["pool1/norm1"], {"kernel_shape": [1, 1]}),
        Node("inception_3a/3x3", "Conv", ["pool1/norm1"], {"kernel_shape": [3, 3],
                                                           "pads": [1, 1, 1, 1]}),
        Node("inception_3a/output", "Concat", ["inception_3a/1x1", "inception_3a/3x3"]),
        Node("bn", "BatchNorm", ["inception_3a/output"], {"epsilon": 1e-5}),
        Node("drop", "Dropout", ["bn"], {"ratio": 0.4}),
        Node("loss3/classifier", "FullyConnected", ["drop"]),
        Node("prob", "Softmax", ["loss3/classifier"]),
    ]
    return graph(nodes, w, metadata={"framework": "caffe", "source_format": "caffe",
                                     "name": "tiny_googlenet"})


CASES: dict[str, Callable[[], tuple[Graph, dict]]] = {
    "conv": single("Conv", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
                   {"weight": lambda: rand(4, 3, 3, 3), "bias": lambda: rand(4)}),
    "conv_asym_pads": single("Conv", {"kernel_shape": [3, 3], "strides": [2, 2],
                                      "pads": [0, 0, 1, 1]},
                             {"weight": lambda: rand(4, 3, 3, 3)}),
    "conv_group_dilation": single("Conv", {"kernel_shape": [3, 3], "dilations": [2, 2],
                                           "group": 3, "pads": [2, 2, 2, 2]},
                                  {"weight": lambda: rand(6, 1, 3, 3), "bias": lambda: rand(6)}),
    "conv_transpose": single("ConvTranspose", {"kernel_shape": [4, 4], "strides": [2, 2],
                                               "pads": [1, 1, 1, 1]},
                             {"weight": lambda: rand(3, 2, 4, 4), "bias": lambda: rand(2)}),
    "conv_transpose_asym": single("ConvTranspose", {"kernel_shape": [3, 3], "strides": [2, 2],
                                                    "pads": [0, 1, 1, 0], "group": 3,
                                                    "output_padding": [1, 1]},
                                  {"weight": lambda: rand(3, 1, 3, 3)}),
    "pool_max_ceil": single("Pool", {"mode": "max", "kernel_shape": [3, 3], "strides": [2, 2],
                                     "ceil_mode": True}),
    "pool_avg_ceil_pads": single("Pool", {"mode": "avg", "kernel_shape": [3, 3],
                                          "strides": [2, 2], "pads": [1, 1, 1, 1],
                                          "ceil_mode": True}, shape=[2, 3, 7, 7]),
    "pool_avg_exclude_pad": single("Pool", {"mode": "avg", "kernel_shape": [3, 3],
                                            "pads": [1, 1, 1, 1], "count_include_pad": False}),
    "pool_avg_asym": single("Pool", {"mode": "avg", "kernel_shape": [2, 2], "strides": [2, 2],
                                     "pads": [0, 0, 1, 1]}, shape=[2, 3, 7, 7]),
    "pool_avg_asym_exclude": single("Pool", {"mode": "avg", "kernel_shape": [3, 3],
                                             "strides": [2, 2], "pads": [0, 0, 1, 1],
                                             "count_include_pad": False}),
    "pool_max_asym_ceil": single("Pool", {"mode": "max", "kernel_shape": [2, 2],
                                          "strides": [2, 2], "pads": [0, 0, 1, 1],
                                          "ceil_mode": True}),
    "pool_max_big_pad": single("Pool", {"mode": "max", "kernel_shape": [2, 2],
                                        "strides": [1, 1], "pads": [1, 1, 1, 1]}),
    "pool_global_avg": single("Pool", {"mode": "avg", "global_pooling": True}),
    "pool_global_max": single("Pool", {"mode": "max", "global_pooling": True}),
    "fc_4d": single("FullyConnected", {}, {"weight": lambda: rand(5, 3 * 8 * 8),
                                           "bias": lambda: rand(5)}),
    "fc_2d": single("FullyConnected", {}, {"weight": lambda: rand(4, 6)}, shape=[2, 6]),
    "relu": single("Relu"),
    "leaky_relu": single("LeakyRelu", {"alpha": 0.2}),
    "prelu": single("PRelu", {}, {"slope": lambda: rand(3)}),
    "prelu_shared": single("PRelu", {}, {"slope": lambda: rand(1)}),
    "elu": single("Elu", {"alpha": 0.5}),
    "sigmoid": single("Sigmoid"),
    "tanh": single("Tanh"),
    "abs": single("Abs"),
    "identity": single("Identity"),
    "power": single("Power", {"power": 2.0, "scale": 0.5, "shift": 1.0}),
    "lrn_across": single("LRN", {"size": 3, "alpha": 0.1, "beta": 0.75, "bias": 2.0}),
    "lrn_within": single("LRN", {"size": 3, "alpha": 0.1, "beta": 0.75, "region": "within"}),
    "lrn_within_even": single("LRN", {"size": 4, "alpha": 0.1, "region": "within"}),
    "dropout": single("Dropout", {"ratio": 0.3}),
    "softmax": single("Softmax", {"axis": 1}),
    "concat": multi("Concat", 3, {"axis": 1}),
    "add": multi("Add", 2),
    "add_coeffs": multi("Add", 3, {"coeffs": [1.0, -1.0, 0.5]}),
    "mul": multi("Mul", 2),
    "max": multi("Max", 3),
    "batch_norm": single("BatchNorm", {"epsilon": 1e-3, "momentum": 0.01},
                         {"mean": lambda: rand(3), "var": lambda: rand(3, lo=0.5),
                          "scale": lambda: rand(3), "bias": lambda: rand(3)}),
    "batch_norm_plain": single("BatchNorm", {}, {"mean": lambda: rand(3),
                                                 "var": lambda: rand(3, lo=0.5)}),
    "scale": single("Scale", {}, {"scale": lambda: rand(3), "bias": lambda: rand(3)}),
    "scale_no_bias": single("Scale", {}, {"scale": lambda: rand(3)}),
    "flatten": single("Flatten", {"axis": 1}),
    "flatten_end": single("Flatten", {"axis": 1, "end_axis": 2}),
    "reshape": single("Reshape", {"shape": [0, -1, 4]}),
    "split": split_case,
    "caffe_like": caffe_like,
}


def feeds(g: Graph) -> dict[str, np.ndarray]:
    return {n.name: RNG.standard_normal([d if d > 0 else 1 for d in n.attrs["shape"]])
            .astype(np.float32) for n in g.inputs}
