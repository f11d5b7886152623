"""Small IR graphs for Conv / ConvTranspose over 1 and 3 spatial axes (and 2-D with [] default
attributes), with stored weights (STATIC) or weights bound to run-time inputs (DYNAMIC);
shared by the backend-pytorch and backend-onnx tests."""

from __future__ import annotations

from collections.abc import Callable

from tests.backend_pytorch._cases import rand, single
from tests.backend_pytorch._dynamic_cases import case
from tests.backend_pytorch._dynamic_cases import rand as drand


def conv(op: str, attrs: dict, x, wshape, bias: bool = True) -> Callable:
    out = wshape[0] if op == "Conv" else wshape[1] * attrs.get("group", 1)
    weights = {"weight": lambda: rand(*wshape)}
    if bias:
        weights["bias"] = lambda: rand(out)
    return single(op, attrs, weights, shape=list(x))


X1 = (2, 4, 11)
X3 = (1, 2, 6, 7, 5)

STATIC: dict[str, Callable] = {
    "conv1d": conv("Conv", {"kernel_shape": [3], "pads": [1, 1]}, X1, (6, 4, 3)),
    "conv1d_stride_dil_group_nobias": conv(
        "Conv", {"kernel_shape": [3], "strides": [2], "dilations": [2], "group": 2}, X1,
        (6, 2, 3), bias=False),
    "conv1d_asym": conv("Conv", {"kernel_shape": [4], "pads": [3, 0]}, X1, (3, 4, 4)),
    "conv2d_defaults": conv("Conv", {"kernel_shape": [3, 3]}, (1, 3, 8, 7), (4, 3, 3, 3)),
    "conv3d": conv("Conv", {"kernel_shape": [2, 3, 2], "strides": [2, 1, 2],
                            "pads": [1, 1, 0, 1, 1, 0]}, X3, (4, 2, 2, 3, 2)),
    "conv3d_asym_group": conv("Conv", {"kernel_shape": [3, 2, 3], "pads": [1, 0, 2, 0, 1, 1],
                                       "dilations": [1, 2, 1], "group": 2}, X3,
                              (4, 1, 3, 2, 3)),
    "deconv1d": conv("ConvTranspose", {"kernel_shape": [3], "strides": [2], "pads": [1, 1],
                                       "output_padding": [1]}, X1, (4, 3, 3)),
    "deconv1d_asym_group_nobias": conv(
        "ConvTranspose", {"kernel_shape": [4], "strides": [3], "pads": [2, 0], "group": 2,
                          "dilations": [2]}, X1, (4, 2, 4), bias=False),
    "deconv2d_defaults": conv("ConvTranspose", {"kernel_shape": [2, 2]}, (1, 3, 5, 4),
                              (3, 2, 2, 2)),
    "deconv3d": conv("ConvTranspose", {"kernel_shape": [2, 3, 2], "strides": [2, 1, 2]},
                     X3, (2, 3, 2, 3, 2)),
    "deconv3d_asym_outpad": conv(
        "ConvTranspose", {"kernel_shape": [3, 2, 3], "strides": [2, 2, 2],
                          "pads": [1, 0, 1, 0, 1, 1], "output_padding": [1, 0, 1]}, X3,
        (2, 2, 3, 2, 3)),
}

DYNAMIC: dict[str, Callable] = {
    "conv1d_weight_bound": case("Conv", {"kernel_shape": [3], "strides": [2], "pads": [1, 1]},
                                X1, {"weight": drand(5, 4, 3), "bias": drand(5)}, {"weight"}),
    "conv1d_asym_all_bound": case("Conv", {"kernel_shape": [3], "pads": [2, 0], "group": 2},
                                  X1, {"weight": drand(4, 2, 3), "bias": drand(4)},
                                  {"weight", "bias"}),
    "conv3d_bias_bound": case("Conv", {"kernel_shape": [2, 2, 2], "pads": [1, 0, 1, 0, 1, 0]},
                              X3, {"weight": drand(3, 2, 2, 2, 2), "bias": drand(3)},
                              {"bias"}),
    "deconv1d_weight_bound": case("ConvTranspose", {"kernel_shape": [3], "strides": [2],
                                                    "pads": [0, 1]},
                                  X1, {"weight": drand(4, 2, 3), "bias": drand(2)},
                                  {"weight"}),
    "deconv3d_all_bound": case("ConvTranspose", {"kernel_shape": [2, 2, 2],
                                                 "strides": [2, 1, 2], "output_padding": [1, 0, 0],
                                                 "group": 2},
                               X3, {"weight": drand(2, 1, 2, 2, 2), "bias": drand(2)},
                               {"weight", "bias"}),
}
