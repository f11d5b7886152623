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
