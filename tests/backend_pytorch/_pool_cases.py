"""Small IR graphs for Pool in 1-D / 3-D / with dilations, LpPool, LpNormalization,
MeanVarianceNormalization, Swish, SwiGLU and Mod (shared by the backend-pytorch and
backend-onnx tests)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nnrosetta.ir.graph import Node
from tests.backend_pytorch._cases import graph, inp, single

X1 = [2, 3, 11]
X3 = [1, 2, 7, 6, 5]


def pool(attrs: dict, shape) -> Callable:
    return single("Pool", attrs, shape=shape)


def lp(attrs: dict, shape=(1, 2, 8, 7)) -> Callable:
    return single("LpPool", attrs, shape=list(shape))


def binary(op: str, attrs: dict, sa, sb) -> Callable:
    def make():
        return graph([inp("a", sa), inp("b", sb), Node("y", op, ["a", "b"], dict(attrs))], {})
    return make


def mod_by_constant(fmod: bool) -> Callable:
    """An int64 constant divisor (the IR computes in float)."""
    def make():
        nodes = [inp("a", [2, 5]), Node("k", "Constant"),
                 Node("y", "Mod", ["a", "k"], {"fmod": fmod})]
        return graph(nodes, {"k.value": np.array([1, 2, 3, -2, -3], np.int64)})
    return make


CASES: dict[str, Callable] = {
    # 1-D
    "pool1d_max": pool({"mode": "max", "kernel_shape": [3], "strides": [2], "pads": [1, 1]},
                       X1),
    "pool1d_avg": pool({"mode": "avg", "kernel_shape": [3], "strides": [2], "pads": [1, 1],
                        "count_include_pad": False}, X1),
    "pool1d_max_asym_ceil": pool({"mode": "max", "kernel_shape": [2], "strides": [2],
                                  "pads": [1, 2], "ceil_mode": True}, X1),
    "pool1d_avg_asym": pool({"mode": "avg", "kernel_shape": [3], "strides": [2],
                             "pads": [0, 2]}, X1),
    "pool1d_avg_exclude_ceil": pool({"mode": "avg", "kernel_shape": [3], "strides": [2],
                                     "pads": [2, 1], "ceil_mode": True,
                                     "count_include_pad": False}, X1),
    "pool1d_global_avg": pool({"mode": "avg", "global_pooling": True}, X1),
    # 2-D with dilations
    "pool2d_max_dilated": pool({"mode": "max", "kernel_shape": [2, 2], "strides": [1, 1],
                                "dilations": [2, 2]}, [1, 2, 8, 8]),
    "pool2d_max_dilated_asym_ceil": pool({"mode": "max", "kernel_shape": [3, 2],
                                          "strides": [2, 2], "dilations": [2, 3],
                                          "pads": [0, 1, 2, 1], "ceil_mode": True},
                                         [1, 2, 9, 9]),
    "pool2d_avg_dilated": pool({"mode": "avg", "kernel_shape": [2, 2], "dilations": [2, 2],
                                "pads": [1, 1, 1, 1]}, [1, 2, 8, 8]),
    "pool2d_avg_dilated_exclude_ceil": pool({"mode": "avg", "kernel_shape": [3, 2],
                                             "strides": [2, 3], "dilations": [2, 2],
                                             "pads": [1, 0, 2, 1], "ceil_mode": True,
                                             "count_include_pad": False}, [1, 2, 9, 10]),
    # 3-D
    "pool3d_max": pool({"mode": "max", "kernel_shape": [3, 2, 2], "strides": [2, 2, 1],
                        "pads": [1, 0, 1, 1, 0, 1]}, X3),
    "pool3d_avg_ceil": pool({"mode": "avg", "kernel_shape": [2, 2, 2], "strides": [2, 2, 2],
                             "ceil_mode": True}, X3),
    "pool3d_max_dilated": pool({"mode": "max", "kernel_shape": [2, 2, 2],
                                "dilations": [2, 1, 2], "pads": [0, 1, 0, 1, 0, 1]}, X3),
    "pool3d_avg_dilated_ceil": pool({"mode": "avg", "kernel_shape": [2, 2, 2],
                                     "strides": [2, 2, 2], "dilations": [2, 2, 1],
                                     "pads": [1, 1, 1, 1, 1, 1], "ceil_mode": True}, X3),
    "pool3d_avg_asym_exclude": pool({"mode": "avg", "kernel_shape": [3, 2, 2],
                                     "pads": [2, 0, 1, 0, 1, 1],
                                     "count_include_pad": False}, X3),
    "pool3d_global_max": pool({"mode": "max", "global_pooling": True}, X3),
    # pads of a kernel's size or more (onnxruntime's pooling refuses them); no window lies
    # wholly in the padding here
    "pool1d_max_wide_pads": pool({"mode": "max", "kernel_shape": [2], "strides": [3],
                                  "pads": [0, 2]}, X1),
    "pool2d_avg_wide_pads": pool({"mode": "avg", "kernel_shape": [2, 2], "strides": [3, 3],
                                  "pads": [0, 0, 2, 3], "count_include_pad": False},
                                 [1, 2, 7, 7]),
    "pool2d_avg_wide_pads_include": pool({"mode": "avg", "kernel_shape": [2, 2],
                                          "pads": [2, 1, 2, 1]}, [1, 2, 6, 7]),
    "lppool2d_wide_pads": lp({"p": 2, "kernel_shape": [2, 2], "pads": [2, 2, 2, 2]}),
    # LpPool
    "lppool1d": lp({"p": 2, "kernel_shape": [3], "strides": [2]}, X1),
    "lppool2d_pads": lp({"p": 3, "kernel_shape": [3, 3], "pads": [1, 0, 2, 1],
                         "strides": [2, 1]}),
    "lppool2d_dilations": lp({"p": 2, "kernel_shape": [2, 2], "dilations": [2, 2]}),
    "lppool2d_dilations_p1": lp({"p": 1, "kernel_shape": [2, 3], "dilations": [2, 1],
                                 "pads": [1, 1, 1, 1]}),
    "lppool2d_ceil": lp({"p": 2, "kernel_shape": [2, 2], "strides": [2, 2],
                         "ceil_mode": True}),
    "lppool3d": lp({"p": 2, "kernel_shape": [2, 2, 2]}, X3),
    "lppool_global": lp({"p": 3, "global_pooling": True}),
    # small ops
    "lpnorm_p2": single("LpNormalization", {"p": 2, "axis": -1}),
    "lpnorm_p1_axis1": single("LpNormalization", {"p": 1, "axis": 1}),
    "mvn_default": single("MeanVarianceNormalization", {}),
    "mvn_last": single("MeanVarianceNormalization", {"axes": [-1]}),
    "swish": single("Swish", {}),
    "swish_alpha": single("Swish", {"alpha": 0.5}),
    "swiglu": binary("SwiGLU", {}, [2, 6], [2, 6]),
    "swiglu_alpha": binary("SwiGLU", {"alpha": 1.702}, [2, 6], [2, 6]),
    "mod": binary("Mod", {}, [2, 3, 4], [4]),
    "fmod": binary("Mod", {"fmod": True}, [2, 3, 4], [3, 1]),
    "mod_constant": mod_by_constant(False),
    "fmod_constant": mod_by_constant(True),
}
