"""A table of small IR graphs for the backend-tf tests: one (or a few) per op, and the layout
cases. An image input read by a convolution is channels-last in the Keras model, so the
``cl_*`` cases start with a 1x1 convolution: the op under test then sees a channels-last value
and must handle the layout (axes, weights, constants, reshapes)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnrosetta.ir.graph import Graph, Node

# the graph builders and the shared cases are backend-pytorch's (same IR, same table shape)
from tests.backend_pytorch._cases import caffe_like, graph, inp, single, split_case  # noqa: F401

RNG = np.random.default_rng(2024)
X = [2, 3, 8, 8]
Case = Callable[[], tuple[Graph, dict[str, np.ndarray]]]


def rand(*shape: int, lo: float | None = None, scale: float = 1.0) -> np.ndarray:
    a = (RNG.standard_normal(shape) * scale).astype(np.float32)
    if lo is not None:
        a = np.abs(a) + lo
    return a


def multi(op: str, shapes, attrs: dict | None = None) -> Case:
    def make():
        nodes = [inp(f"x{i}", s) for i, s in enumerate(shapes)]
        nodes.append(Node("y", op, [f"x{i}" for i in range(len(shapes))], dict(attrs or {})))
        return graph(nodes, {})
    return make


def conv1x1(name: str, src: str, cin: int, cout: int, w: dict) -> Node:
    w[f"{name}.weight"] = rand(cout, cin, 1, 1)
    w[f"{name}.bias"] = rand(cout)
    return Node(name, "Conv", [src], {"kernel_shape": [1, 1]})


def cl(op: str, attrs: dict | None = None, weights: dict | None = None, shape=X,
       extra: list[Node] | None = None, consts: dict | None = None, cout: int = 4) -> Case:
    """data -> 1x1 Conv (channels-last from here) -> op (-> extra nodes)."""
    def make():
        w: dict[str, np.ndarray] = {}
        nodes = [inp(shape=shape), conv1x1("c", "data", shape[1], cout, w)]
        for cname, value in (consts or {}).items():
            nodes.append(Node(cname, "Constant", []))
            w[f"{cname}.value"] = value() if callable(value) else value
        ins = ["c", *(consts or {})]
        nodes.append(Node("n", op, ins, dict(attrs or {})))
        w.update({f"n.{k}": v() if callable(v) else v for k, v in (weights or {}).items()})
        nodes += extra or []
        return graph(nodes, w)
    return make


def flatten_dense():
    """VGG's pool5 -> Flatten -> fc6: the Dense takes the flattened channels-last features."""
    w: dict[str, np.ndarray] = {}
    nodes = [inp(), conv1x1("c", "data", 3, 4, w),
             Node("flat", "Flatten", ["c"]), Node("fc", "FullyConnected", ["flat"]),
             Node("fc2", "FullyConnected", ["flat"])]
    w.update({"fc.weight": rand(5, 4 * 8 * 8), "fc.bias": rand(5), "fc2.weight": rand(3, 256)})
    return graph(nodes, w, outputs=["fc", "fc2"])


def flatten_dropout_dense():
    """Flatten -> Dropout -> ReLU -> Dense: the elementwise ops keep the flattened order."""
    w: dict[str, np.ndarray] = {}
    nodes = [inp(), conv1x1("c", "data", 3, 4, w), Node("flat", "Flatten", ["c"]),
             Node("drop", "Dropout", ["flat"]), Node("r", "Relu", ["drop"]),
             Node("fc", "FullyConnected", ["r"])]
    w.update({"fc.weight": rand(5, 256), "fc.bias": rand(5)})
    return graph(nodes, w)


def fc_on_4d():
    """Caffe InnerProduct straight on a pooled 4-D blob (no Flatten node)."""
    w: dict[str, np.ndarray] = {}
    nodes = [inp(), conv1x1("c", "data", 3, 4, w),
             Node("pool", "Pool", ["c"], {"mode": "max", "kernel_shape": [2, 2],
                                          "strides": [2, 2]}),
             Node("fc", "FullyConnected", ["pool"])]
    w.update({"fc.weight": rand(6, 4 * 4 * 4), "fc.bias": rand(6)})
    return graph(nodes, w)


def flatten_gemm_matmul():
    """Flatten read by a Gemm (constant B, C) and a MatMul with a constant matrix."""
    w: dict[str, np.ndarray] = {}
    nodes = [inp(), conv1x1("c", "data", 3, 2, w), Node("flat", "Flatten", ["c"]),
             Node("b", "Constant", []), Node("cc", "Constant", []), Node("m", "Constant", []),
             Node("gemm", "Gemm", ["flat", "b", "cc"], {"transB": True, "alpha": 0.5,
                                                         "beta": 2.0}),
             Node("mm", "MatMul", ["flat", "m"])]
    w.update({"b.value": rand(7, 128), "cc.value": rand(7), "m.value": rand(128, 3)})
    return graph(nodes, w, outputs=["gemm", "mm"])


def flatten_to_relu():
    """A Flatten read by something other than a Dense: back to the IR's order first."""
    w: dict[str, np.ndarray] = {}
    nodes = [inp(), conv1x1("c", "data", 3, 4, w), Node("flat", "Flatten", ["c"]),
             Node("r", "Relu", ["flat"]), Node("fc", "FullyConnected", ["flat"])]
    w.update({"fc.weight": rand(5, 256)})
    return graph(nodes, w, outputs=["r", "fc"])


def concat_branches():
    """Inception: branches concatenated on the channels (the last Keras axis)."""
    w: dict[str, np.ndarray] = {}
    nodes = [inp(), conv1x1("a", "data", 3, 4, w), conv1x1("b", "data", 3, 2, w),
             Node("pool", "Pool", ["data"], {"mode": "max", "kernel_shape": [3, 3],
                                             "pads": [1, 1, 1, 1]}),
             Node("cat", "Concat", ["a", "b", "pool"], {"axis": 1}),
             Node("cat_h", "Concat", ["a", "a"], {"axis": 2})]
    return graph(nodes, w, outputs=["cat", "cat_h"])


def se_block():
    """Squeeze-and-excitation: global pool -> 1x1 convs -> sigmoid -> Mul broadcast [N,C,1,1]."""
    w: dict[str, np.ndarray] = {}
    nodes = [inp(), conv1x1("c", "data", 3, 4, w),
             Node("gap", "Pool", ["c"], {"mode": "avg", "global_pooling": True}),
             conv1x1("s1", "gap", 4, 2, w), Node("r", "Relu", ["s1"]),
             conv1x1("s2", "r", 2, 4, w), Node("g", "Sigmoid", ["s2"]),
             Node("y", "Mul", ["c", "g"])]
    return graph(nodes, w)


def resnet_block():
    """Caffe ResNet: conv -> BatchNorm -> Scale (one BatchNormalization) -> ReLU -> Add."""
    w: dict[str, np.ndarray] = {}
    nodes = [inp(), conv1x1("c", "data", 3, 3, w),
             Node("bn", "BatchNorm", ["c"], {"epsilon": 1e-5}),
             Node("sc", "Scale", ["bn"]), Node("r", "Relu", ["sc"]),
             Node("sum", "Add", ["r", "data"]), Node("out", "Relu", ["sum"])]
    w.update({"bn.mean": rand(3), "bn.var": rand(3, lo=0.5), "sc.scale": rand(3),
              "sc.bias": rand(3)})
    return graph(nodes, w)


def mobilenet_block():
    """Depthwise 3x3 (group = C), pointwise 1x1, relu6 (Clip 0..6), TF "same" pads."""
    w = {"dw.weight": rand(4, 1, 3, 3), "dw.bias": rand(4), "dm.weight": rand(8, 1, 3, 3)}
    nodes = [inp(shape=[2, 4, 9, 9]),
             Node("dw", "Conv", ["data"], {"kernel_shape": [3, 3], "strides": [2, 2],
                                           "pads": [1, 1, 1, 1], "group": 4}),
             Node("r6", "Clip", ["dw"], {"min": 0.0, "max": 6.0}),
             Node("dm", "Conv", ["r6"], {"kernel_shape": [3, 3], "group": 4,
                                         "pads": [0, 0, 1, 1]})]
    return graph(nodes, w)


def reshape_4d():
    """A Reshape of a channels-last value: the IR's row-major order needs a Permute."""
    w: dict[str, np.ndarray] = {}
    nodes = [inp(), conv1x1("c", "data", 3, 4, w),
             Node("rs", "Reshape", ["c"], {"shape": [0, 4, -1]}),
             Node("rs2", "Reshape", ["c"], {"shape": [0, 2, 2, 64]})]
    return graph(nodes, w, outputs=["rs", "rs2"])


def reshape_to_conv():
    """A 2-D value reshaped to [N, C, 1, 1] and convolved: reshaped straight to channels-last."""
    w: dict[str, np.ndarray] = {}
    nodes = [inp(shape=[2, 6]), Node("rs", "Reshape", ["data"], {"shape": [0, 6, 1, 1]}),
             conv1x1("c", "rs", 6, 3, w), Node("sq", "Squeeze", ["c"], {"axes": [2, 3]})]
    return graph(nodes, w)


def transpose_cl():
    """NCHW -> NHWC of a channels-last value: no data movement; then a Softmax on the last axis."""
    w: dict[str, np.ndarray] = {}
    nodes = [inp(), conv1x1("c", "data", 3, 4, w),
             Node("t", "Transpose", ["c"], {"perm": [0, 2, 3, 1]}),
             Node("sm", "Softmax", ["t"], {"axis": -1}),
             Node("t2", "Transpose", ["c"], {"perm": [1, 0, 2, 3]})]
    return graph(nodes, w, outputs=["sm", "t2"])


def matmul_const():
    nodes = [inp(shape=[2, 5, 6]), Node("w", "Constant", []), Node("mm", "MatMul", ["data", "w"])]
    return graph(nodes, {"w.value": rand(6, 4)}, outputs=["mm"])


def transformer_block():
    """LayerNorm -> attention-like MatMuls with a Transpose, Softmax, reduction."""
    w = {"ln.scale": rand(8), "ln.bias": rand(8), "wq.value": rand(8, 8),
         "wk.value": rand(8, 8)}
    nodes = [inp(shape=[2, 5, 8]), Node("ln", "LayerNormalization", ["data"]),
             Node("wq", "Constant", []), Node("wk", "Constant", []),
             Node("q", "MatMul", ["ln", "wq"]), Node("k", "MatMul", ["ln", "wk"]),
             Node("kt", "Transpose", ["k"], {"perm": [0, 2, 1]}),
             Node("scores", "MatMul", ["q", "kt"]),
             Node("attn", "Softmax", ["scores"], {"axis": -1}),
             Node("mix", "MatMul", ["attn", "ln"]), Node("g", "Gelu", ["mix"]),
             Node("pooled", "ReduceMean", ["g"], {"axes": [1], "keepdims": False})]
    return graph(nodes, w, outputs=["pooled"])


POOL = {"mode": "max", "kernel_shape": [3, 3], "strides": [2, 2]}
CASES: dict[str, Case] = {
    # -- convolutions -----------------------------------------------------------------------
    "conv": single("Conv", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]},
                   {"weight": lambda: rand(4, 3, 3, 3), "bias": lambda: rand(4)}),
    "conv_same_pads": single("Conv", {"kernel_shape": [3, 3], "strides": [2, 2],
                                      "pads": [0, 0, 1, 1]}, {"weight": lambda: rand(4, 3, 3, 3)}),
    "conv_asym_pads": single("Conv", {"kernel_shape": [3, 2], "pads": [2, 0, 0, 1]},
                             {"weight": lambda: rand(4, 3, 3, 2), "bias": lambda: rand(4)}),
    "conv_grouped": single("Conv", {"kernel_shape": [3, 3], "group": 2, "pads": [1, 1, 1, 1]},
                           {"weight": lambda: rand(6, 2, 3, 3), "bias": lambda: rand(6)},
                           shape=[2, 4, 8, 8]),
    "conv_depthwise_dilated": single("Conv", {"kernel_shape": [3, 3], "dilations": [2, 2],
                                              "group": 3, "pads": [2, 2, 2, 2]},
                                     {"weight": lambda: rand(6, 1, 3, 3),
                                      "bias": lambda: rand(6)}),
    "conv1d": single("Conv", {"kernel_shape": [3], "strides": [2], "pads": [1, 0]},
                     {"weight": lambda: rand(4, 3, 3), "bias": lambda: rand(4)}, shape=[2, 3, 9]),
    "conv3d": single("Conv", {"kernel_shape": [2, 3, 3], "pads": [0, 1, 1, 1, 1, 1]},
                     {"weight": lambda: rand(4, 3, 2, 3, 3)}, shape=[2, 3, 4, 6, 6]),
    "conv_transpose": single("ConvTranspose", {"kernel_shape": [4, 4], "strides": [2, 2],
                                               "pads": [1, 1, 1, 1]},
                             {"weight": lambda: rand(3, 2, 4, 4), "bias": lambda: rand(2)}),
    "conv_transpose_grouped_asym": single(
        "ConvTranspose", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [0, 1, 1, 0],
                          "group": 3, "output_padding": [1, 1]},
        {"weight": lambda: rand(3, 1, 3, 3), "bias": lambda: rand(3)}),
    "conv_transpose_k1_s2": single("ConvTranspose", {"kernel_shape": [1, 1], "strides": [2, 2]},
                                   {"weight": lambda: rand(3, 2, 1, 1)}),
    # -- pooling ----------------------------------------------------------------------------
    "pool_max_ceil": single("Pool", {**POOL, "ceil_mode": True}),
    "pool_max_pads": single("Pool", {**POOL, "pads": [1, 1, 1, 1]}),
    "pool_max_asym_ceil": single("Pool", {"mode": "max", "kernel_shape": [2, 2],
                                          "strides": [2, 2], "pads": [0, 0, 1, 1],
                                          "ceil_mode": True}),
    "pool_avg_include_pad": single("Pool", {"mode": "avg", "kernel_shape": [3, 3],
                                            "pads": [1, 1, 1, 1]}),
    "pool_avg_exclude_pad": single("Pool", {"mode": "avg", "kernel_shape": [3, 3],
                                            "pads": [1, 1, 1, 1], "count_include_pad": False}),
    "pool_avg_ceil_overhang": single("Pool", {"mode": "avg", "kernel_shape": [3, 3],
                                              "strides": [2, 2], "pads": [1, 1, 1, 1],
                                              "ceil_mode": True}, shape=[2, 3, 8, 8]),
    "pool_avg_ceil_exclude": single("Pool", {"mode": "avg", "kernel_shape": [3, 3],
                                             "strides": [2, 2], "pads": [1, 0, 1, 0],
                                             "ceil_mode": True, "count_include_pad": False},
                                    shape=[2, 3, 8, 9]),
    "pool_avg_asym": single("Pool", {"mode": "avg", "kernel_shape": [2, 2], "strides": [2, 2],
                                     "pads": [0, 0, 1, 1]}, shape=[2, 3, 7, 7]),
    "pool_avg_1d": single("Pool", {"mode": "avg", "kernel_shape": [3], "strides": [2],
                                   "pads": [1, 1], "ceil_mode": True}, shape=[2, 3, 8]),
    "pool_global_avg": single("Pool", {"mode": "avg", "global_pooling": True}),
    "pool_global_max": single("Pool", {"mode": "max", "global_pooling": True}),
    # -- normalization ----------------------------------------------------------------------
    "lrn_across": single("LRN", {"size": 5, "alpha": 0.1, "beta": 0.75, "bias": 2.0}),
    "lrn_across_even": single("LRN", {"size": 4, "alpha": 0.1}),
    "lrn_within": single("LRN", {"size": 3, "alpha": 0.1, "beta": 0.75, "region": "within"}),
    "batch_norm": cl("BatchNorm", {"epsilon": 1e-3, "momentum": 0.01},
                     {"mean": lambda: rand(4), "var": lambda: rand(4, lo=0.5),
                      "scale": lambda: rand(4), "bias": lambda: rand(4)}),
    "batch_norm_2d": single("BatchNorm", {}, {"mean": lambda: rand(6),
                                              "var": lambda: rand(6, lo=0.5)}, shape=[2, 6]),
    "scale": cl("Scale", {}, {"scale": lambda: rand(4), "bias": lambda: rand(4)}),
    "scale_no_bias_2d": single("Scale", {}, {"scale": lambda: rand(6)}, shape=[2, 6]),
    "layer_norm": single("LayerNormalization", {"epsilon": 1e-3},
                         {"scale": lambda: rand(8), "bias": lambda: rand(8)}, shape=[2, 5, 8]),
    "layer_norm_cl_axis1": cl("LayerNormalization", {"axis": 1},
                              {"scale": lambda: rand(4, 8, 8)}),
    # -- activations and elementwise ----------------------------------------------------------
    "relu": single("Relu"),
    "relu6": cl("Clip", {"min": 0.0, "max": 6.0}),
    "clip": single("Clip", {"min": -0.5, "max": 0.5}),
    "leaky_relu": single("LeakyRelu", {"alpha": 0.2}),
    "elu": single("Elu", {"alpha": 0.5}),
    "sigmoid": single("Sigmoid"),
    "tanh": single("Tanh"),
    "gelu": single("Gelu"),
    "gelu_tanh": single("Gelu", {"approximate": "tanh"}),
    "swish": single("Swish"),
    "swish_alpha": single("Swish", {"alpha": 1.5}),
    "hard_swish": single("HardSwish"),
    "hard_sigmoid": single("HardSigmoid"),
    "softplus": single("Softplus"),
    "selu": single("Selu"),
    "prelu_cl": cl("PRelu", {}, {"slope": lambda: rand(4)}),
    "prelu_shared": single("PRelu", {}, {"slope": lambda: rand(1)}),
    "prelu_onnx_shape": cl("PRelu", {}, {"slope": lambda: rand(4, 1, 1)}),
    "abs": single("Abs", shape=[2, 6]),
    "erf": single("Erf"),
    "power": single("Power", {"power": 2.0, "scale": 0.5, "shift": 1.0}),
    "dropout": single("Dropout", {"ratio": 0.3}),
    "identity": single("Identity"),
    "softmax_cl_axis1": cl("Softmax", {"axis": 1}),
    "log_softmax": single("LogSoftmax", {"axis": -1}, shape=[2, 6]),
    "add": multi("Add", [X, X]),
    "add_coeffs": multi("Add", [X, X, X], {"coeffs": [1.0, -1.0, 0.5]}),
    "sub_broadcast": multi("Sub", [[2, 3, 4], [4]]),
    "mul": multi("Mul", [X, X]),
    "div": multi("Div", [[2, 5], [2, 5]]),
    "max3": multi("Max", [X, X, X]),
    "mean": multi("Mean", [X, X]),
    "cl_add_const_c11": cl("Add", consts={"k": lambda: rand(4, 1, 1)}),
    "cl_mul_const_scalar": cl("Mul", consts={"k": np.array([0.5], np.float32)}),
    "cl_div_const_full": cl("Div", consts={"k": lambda: rand(1, 4, 8, 8, lo=0.5)}),
    # -- layout: reshapes, flatten, concat, reductions -----------------------------------------
    "flatten_dense": flatten_dense,
    "flatten_dropout_dense": flatten_dropout_dense,
    "fc_on_4d": fc_on_4d,
    "flatten_gemm_matmul": flatten_gemm_matmul,
    "flatten_to_relu": flatten_to_relu,
    "flatten_2d": single("Flatten", {"axis": 1, "end_axis": 2}),
    "concat_branches": concat_branches,
    "se_block": se_block,
    "resnet_block": resnet_block,
    "mobilenet_block": mobilenet_block,
    "reshape_4d": reshape_4d,
    "reshape_to_conv": reshape_to_conv,
    "transpose_cl": transpose_cl,
    "reduce_mean_cl": cl("ReduceMean", {"axes": [2, 3], "keepdims": False}),
    "reduce_max_cl_keep": cl("ReduceMax", {"axes": [1], "keepdims": True}),
    "reduce_mean_hw_keep": cl("ReduceMean", {"axes": [3, 2]}),
    "reduce_sum_l2": single("ReduceL2", {"axes": [1]}, shape=[2, 3, 5]),
    "pad_spatial_cl": cl("Pad", {"pads": [0, 0, 1, 2, 0, 0, 2, 1]}),
    "pad_reflect": single("Pad", {"pads": [0, 0, 1, 2, 0, 0, 2, 1], "mode": "reflect"}),
    "pad_constant_channels": cl("Pad", {"pads": [0, 1, 0, 0, 0, 2, 0, 0], "value": 0.5}),
    "slice_cl": cl("Slice", {"starts": [1, 2], "ends": [3, 100], "axes": [1, 3],
                             "steps": [1, 2]}),
    "split": split_case,
    "squeeze": single("Squeeze", {"axes": [2]}, shape=[2, 3, 1, 5]),
    "unsqueeze": single("Unsqueeze", {"axes": [1]}, shape=[2, 6]),
    "resize_nearest_x2": cl("Resize", {"mode": "nearest", "scales": [1.0, 1.0, 2.0, 2.0],
                                       "coordinate_transformation_mode": "asymmetric",
                                       "nearest_mode": "floor"}),
    "resize_bilinear_x2": cl("Resize", {"mode": "linear", "scales": [1.0, 1.0, 2.0, 2.0]}),
    "resize_bilinear_size": cl("Resize", {"mode": "linear", "sizes": [2, 4, 5, 11]}),
    "resize_nearest_size": cl("Resize", {"mode": "nearest", "sizes": [2, 4, 12, 5],
                                         "coordinate_transformation_mode":
                                         "tf_half_pixel_for_nn", "nearest_mode": "floor"}),
    # -- dense and matrix ops ---------------------------------------------------------------
    "fc_2d": single("FullyConnected", {}, {"weight": lambda: rand(4, 6)}, shape=[2, 6]),
    "fc_axis2": single("FullyConnected", {"axis": 2}, {"weight": lambda: rand(4, 6),
                                                       "bias": lambda: rand(4)},
                       shape=[2, 5, 6]),
    "gemm_inputs": multi("Gemm", [[3, 4], [5, 4]], {"transB": True, "alpha": 0.5}),
    "matmul_const": matmul_const,
    "matmul_batched": multi("MatMul", [[2, 3, 4], [2, 4, 5]]),
    "transformer_block": transformer_block,
    "caffe_like": caffe_like,
}


def feeds(g: Graph, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {n.name: rng.standard_normal([d if d > 0 else 1 for d in n.attrs["shape"]])
            .astype(np.float32) for n in g.inputs}


def scaled_error(ref: np.ndarray, got: np.ndarray) -> float:
    ref = np.asarray(ref, np.float64).reshape(-1)
    got = np.asarray(got, np.float64).reshape(-1)
    return float(np.max(np.abs(ref - got)) / max(np.max(np.abs(ref)), 1e-30))


def close(got: np.ndarray, ref: np.ndarray, tol: float = 1e-4) -> None:
    assert got.shape == ref.shape, (got.shape, ref.shape)
    err = scaled_error(ref, got)
    assert err <= tol, f"error {err:.3g} relative to the output's scale (tolerance {tol})"
