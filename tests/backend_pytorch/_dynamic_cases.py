"""IR graphs whose weights (some or all) are inputs computed at run time (registry
``weight_inputs``), and LayerNormalization with its Mean / InvStdDev outputs; shared by the
backend-pytorch and backend-onnx tests."""

from __future__ import annotations

import numpy as np

from nnrosetta.ir.graph import Graph, Node, TensorInfo

RNG = np.random.default_rng(99)


def rand(*shape, lo=None):
    a = RNG.standard_normal(shape).astype(np.float32)
    return np.abs(a) + lo if lo is not None else a


def inp(name, shape):
    return Node(name, "Input", [], {"shape": list(shape)})


def case(op, attrs, x_shape, params, bound, outputs=(), positive=()):
    """``params``: role -> array; ``bound``: the roles fed as graph inputs (the others stored)."""

    def make():
        order = [r for r in _order(op) if r in bound]
        a = dict(attrs)
        if order and order != _order(op)[:len(order)]:
            a["weight_inputs"] = order
        nodes = [inp("x", x_shape)] + [inp(f"p_{r}", params[r].shape) for r in order]
        nodes.append(Node("n", op, ["x"] + [f"p_{r}" for r in order], a))
        ws = {f"n.{r}": v for r, v in params.items() if r not in bound}
        g = Graph(nodes, list(outputs), {},
                  {k: TensorInfo(k, str(v.dtype), tuple(v.shape)) for k, v in ws.items()})
        feeds = {f"p_{r}": params[r] for r in order}
        return g, ws, feeds

    make.positive = set(positive)
    return make


def _order(op):
    from nnrosetta.ir import registry

    return list(registry.get(op).weight_inputs)


CONV = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [1, 2]}
CONV_ASYM = {"kernel_shape": [3, 3], "pads": [0, 1, 1, 2], "group": 2, "dilations": [1, 2]}
DECONV = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 0, 0, 1],
          "output_padding": [1, 1]}
BN = {"epsilon": 1e-3}


def _bn():
    return {"scale": rand(4), "bias": rand(4), "mean": rand(4), "var": rand(4, lo=0.5)}


CASES = {
    "conv_weight": case("Conv", CONV, (2, 4, 8, 8), {"weight": rand(6, 4, 3, 3),
                                                     "bias": rand(6)}, {"weight"}),
    "conv_both": case("Conv", CONV_ASYM, (1, 4, 9, 9), {"weight": rand(6, 2, 3, 3),
                                                        "bias": rand(6)}, {"weight", "bias"}),
    "conv_bias_only": case("Conv", CONV, (2, 4, 8, 8), {"weight": rand(6, 4, 3, 3),
                                                        "bias": rand(6)}, {"bias"}),
    "conv_no_bias": case("Conv", CONV, (2, 4, 8, 8), {"weight": rand(6, 4, 3, 3)}, {"weight"}),
    "deconv_both": case("ConvTranspose", DECONV, (1, 4, 5, 5),
                        {"weight": rand(4, 3, 3, 3), "bias": rand(3)}, {"weight", "bias"}),
    "deconv_weight": case("ConvTranspose", {"kernel_shape": [2, 2], "group": 2}, (1, 4, 5, 5),
                          {"weight": rand(4, 1, 2, 2)}, {"weight"}),
    "bn_all": case("BatchNorm", BN, (2, 4, 5, 5), _bn(), {"scale", "bias", "mean", "var"}),
    "bn_stats": case("BatchNorm", BN, (2, 4, 5, 5), _bn(), {"mean", "var"}),
    "prelu_channel": case("PRelu", {}, (2, 4, 5, 5), {"slope": rand(4)}, {"slope"}),
    "prelu_broadcast": case("PRelu", {}, (3, 4, 5), {"slope": rand(1, 1, 5)}, {"slope"}),
    "instance_norm": case("InstanceNormalization", {"epsilon": 1e-3}, (2, 4, 5, 6),
                          {"scale": rand(4), "bias": rand(4)}, {"scale", "bias"}),
    "group_norm": case("GroupNormalization", {"num_groups": 2}, (2, 4, 5, 6),
                       {"scale": rand(4), "bias": rand(4)}, {"scale"}),
    "layer_norm": case("LayerNormalization", {"axis": 2}, (2, 3, 4, 5),
                       {"scale": rand(4, 5), "bias": rand(4, 5)}, {"scale", "bias"}),
    "layer_norm_broadcast": case("LayerNormalization", {"axis": 1}, (2, 3, 4),
                                 {"scale": rand(4)}, {"scale"}),
    "clip_both": case("Clip", {}, (2, 3, 4), {"min": np.array(-0.4, np.float32),
                                              "max": np.array(0.6, np.float32)},
                      {"min", "max"}),
    "clip_max": case("Clip", {"min": -0.5}, (2, 3, 4), {"max": np.array(0.3, np.float32)},
                     {"max"}),
    "clip_min": case("Clip", {"max": 0.1}, (2, 3, 4), {"min": np.array(0.4, np.float32)},
                     {"min"}),
    "layer_norm_stats": case("LayerNormalization", {"axis": -1, "num_outputs": 3,
                                                    "epsilon": 1e-3}, (2, 3, 6),
                             {"scale": rand(6), "bias": rand(6)}, set(),
                             outputs=["n", "n:1", "n:2"]),
    "layer_norm_stats_bound": case("LayerNormalization", {"axis": 1, "num_outputs": 2},
                                   (2, 3, 4), {"scale": rand(3, 4)}, {"scale"},
                                   outputs=["n:1", "n"]),
}


def feeds(g: Graph, extra: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out = {n.name: RNG.standard_normal(n.attrs["shape"]).astype(np.float32)
           for n in g.inputs if n.name not in extra}
    return {**out, **extra}


# Resize whose scales / sizes / roi are graph inputs (its output dims are known only at run
# time): name -> (attrs, x shape, {role: (values of run 1, values of run 2)}). Each model runs
# twice with different values: nothing of the first may be baked into the converted model.
RESIZE_RUNTIME = {
    "nearest_scales": ({"mode": "nearest"}, (1, 2, 4, 5),
                       {"scales": ([1, 1, 2, 1.5], [1, 1, 0.5, 0.6])}),
    "nearest_ceil_asymmetric_axes": (
        {"mode": "nearest", "nearest_mode": "ceil", "axes": [3, 2],
         "coordinate_transformation_mode": "asymmetric"}, (1, 1, 4, 6),
        {"scales": ([1.5, 2.0], [0.5, 0.75])}),
    "linear_align_corners": ({"mode": "linear", "coordinate_transformation_mode": "align_corners"},
                             (1, 2, 5, 7), {"scales": ([1, 1, 0.6, 1.7], [1, 1, 2, 2])}),
    "cubic_antialias_axes": ({"mode": "cubic", "antialias": True, "axes": [2, 3]}, (1, 2, 6, 8),
                             {"scales": ([0.6, 0.5], [1.5, 2.0])}),
    "cubic_exclude_symmetric": (
        {"mode": "cubic", "exclude_outside": True, "cubic_coeff_a": -0.5,
         "coordinate_transformation_mode": "half_pixel_symmetric"}, (1, 1, 5, 6),
        {"scales": ([1, 1, 1.7, 0.6], [1, 1, 0.8, 2.5])}),
    "linear_sizes_not_larger": ({"mode": "linear", "axes": [2, 3],
                                 "keep_aspect_ratio_policy": "not_larger"}, (1, 1, 5, 7),
                                {"sizes": ([8, 9], [3, 4])}),
    "crop_roi_and_scales": (
        {"mode": "linear", "coordinate_transformation_mode": "tf_crop_and_resize",
         "extrapolation_value": 2.0}, (1, 1, 5, 7),
        {"roi": ([0, 0, 0.1, -0.2, 1, 1, 0.83, 1.1], [0, 0, 0.2, 0.1, 1, 1, 0.9, 0.7]),
         "scales": ([1, 1, 1.4, 0.8], [1, 1, 0.6, 2.0])}),
}


def resize_runtime(name: str) -> tuple[Graph, list[dict[str, np.ndarray]]]:
    """The IR graph of RESIZE_RUNTIME[name] and its two feeds."""
    attrs, x_shape, given = RESIZE_RUNTIME[name]
    order = [r for r in _order("Resize") if r in given]
    a = dict(attrs)
    if order != _order("Resize")[:len(order)]:
        a["weight_inputs"] = order
    nodes = [inp("x", x_shape)]
    for r in order:
        nodes.append(Node(f"p_{r}", "Input", [], {
            "shape": [len(given[r][0])], "dtype": "int64" if r == "sizes" else "float32"}))
    nodes.append(Node("n", "Resize", ["x"] + [f"p_{r}" for r in order], a))
    g = Graph(nodes, ["n"], {})
    runs = []
    for i in range(2):
        f = {"x": rand(*x_shape)}
        for r in order:
            f[f"p_{r}"] = np.asarray(given[r][i], np.int64 if r == "sizes" else np.float32)
        runs.append(f)
    return g, runs
