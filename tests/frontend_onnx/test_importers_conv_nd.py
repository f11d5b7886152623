"""Importers of Conv / ConvTranspose over 1 and 3 spatial axes (pads, strides, dilations,
groups, auto_pad, output_padding, output_shape; weights as initializers or computed at run
time): ONNX models built here, converted to IR, and the IR's NumPy reference compared with
onnxruntime."""

from __future__ import annotations

import pytest
from onnx import helper

from tests.frontend_onnx._models import check_against_ort, init, make, rng, to_ir

H = helper.make_node
r = rng(5)


def _ops(graph):
    return [n.op for n in graph.nodes if n.op not in ("Input", "Constant")]


X1 = [2, 4, 11]
X3 = [1, 2, 6, 7, 5]

CONVS = {
    "1d": (X1, [6, 4, 3], {}),
    "1d_pads_stride": (X1, [6, 4, 3], {"pads": [2, 1], "strides": [2]}),
    "1d_group_dil": (X1, [6, 2, 3], {"group": 2, "dilations": [2], "kernel_shape": [3]}),
    "1d_same_upper": (X1, [3, 4, 4], {"auto_pad": "SAME_UPPER", "strides": [2]}),
    "1d_same_lower": (X1, [3, 4, 4], {"auto_pad": "SAME_LOWER"}),
    "1d_valid": (X1, [3, 4, 5], {"auto_pad": "VALID"}),
    "3d": (X3, [4, 2, 2, 3, 2], {"strides": [2, 1, 2], "pads": [1, 0, 1, 0, 1, 1]}),
    "3d_group_dil": (X3, [4, 1, 2, 2, 2], {"group": 2, "dilations": [2, 1, 2]}),
    "3d_same_upper": (X3, [3, 2, 3, 3, 2], {"auto_pad": "SAME_UPPER", "strides": [2, 2, 1]}),
}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", sorted(CONVS))
def test_conv(case, bias, tmp_path):
    x, ws, attrs = CONVS[case]
    ins, inits = ["x", "w"], [init("w", r(*ws))]
    if bias:
        ins.append("b")
        inits.append(init("b", r(ws[0])))
    m = make([H("Conv", ins, ["y"], name="conv", **attrs)], {"x": x}, {"y": None}, inits)
    g = check_against_ort(m, tmp_path)
    assert _ops(g) == ["Conv"]
    n = g.node("conv")
    assert len(n.attrs["kernel_shape"]) == len(x) - 2
    assert len(n.attrs["pads"]) == 2 * (len(x) - 2)


DECONVS = {
    "1d": (X1, [4, 3, 3], {"strides": [2]}),
    "1d_pads_outpad": (X1, [4, 3, 3], {"strides": [2], "pads": [1, 0], "output_padding": [1]}),
    "1d_group_dil": (X1, [4, 2, 3], {"group": 2, "dilations": [2]}),
    "1d_output_shape": (X1, [4, 3, 3], {"strides": [2], "output_shape": [24]}),
    "1d_same_upper": (X1, [4, 3, 3], {"strides": [2], "auto_pad": "SAME_UPPER"}),
    "3d": (X3, [2, 3, 2, 3, 2], {"strides": [2, 1, 2]}),
    "3d_pads_outpad_group": (X3, [2, 2, 3, 2, 3], {"strides": [2, 2, 2], "group": 2,
                                                   "pads": [1, 0, 1, 0, 1, 1],
                                                   "output_padding": [1, 0, 1]}),
    "3d_output_shape": (X3, [2, 3, 3, 3, 3], {"strides": [2, 2, 2],
                                              "output_shape": [13, 15, 11]}),
    "3d_same_upper": (X3, [2, 3, 3, 2, 2], {"strides": [2, 1, 2], "auto_pad": "SAME_UPPER"}),
}


@pytest.mark.parametrize("opset", [11, 17])
@pytest.mark.parametrize("case", sorted(DECONVS))
def test_conv_transpose(case, opset, tmp_path):
    x, ws, attrs = DECONVS[case]
    b = ws[1] * attrs.get("group", 1)
    m = make([H("ConvTranspose", ["x", "w", "b"], ["y"], name="deconv", **attrs)], {"x": x},
             {"y": None}, [init("w", r(*ws)), init("b", r(b))], opset)
    g = check_against_ort(m, tmp_path)
    assert _ops(g) == ["ConvTranspose"]
    assert len(g.node("deconv").attrs["output_padding"]) == len(x) - 2


@pytest.mark.parametrize("op,x,ws", [("Conv", X1, [5, 4, 3]), ("Conv", X3, [3, 2, 2, 2, 2]),
                                     ("ConvTranspose", X1, [4, 2, 3]),
                                     ("ConvTranspose", X3, [2, 3, 2, 2, 2])])
def test_weight_computed_at_run_time(op, x, ws, tmp_path):
    """The weight is a graph input times a constant: bound to the IR node's input."""
    m = make([H("Mul", ["wi", "k"], ["w"]), H(op, ["x", "w"], ["y"], name="c", strides=[2] *
                                                (len(x) - 2))],
             {"x": x, "wi": ws}, {"y": None}, [init("k", r(*ws))])
    g = check_against_ort(m, tmp_path)
    assert _ops(g)[-1] == op and len(g.node("c").inputs) == 2


@pytest.mark.parametrize("op", ["Conv", "ConvTranspose"])
def test_rank_6_is_unsupported(op, tmp_path):
    from nnrosetta.rpc.errors import ConversionError

    m = make([H(op, ["x", "w"], ["y"])], {"x": [1, 2, 3, 3, 3, 3]}, {"y": None},
             [init("w", r(2, 2, 1, 1, 1, 1))])
    with pytest.raises(ConversionError, match="1 to 3 spatial axes"):
        to_ir(m, tmp_path)


def test_wrong_pads_length_is_reported(tmp_path):
    from nnrosetta.rpc.errors import ConversionError

    m = make([H("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], {"x": X1}, {"y": None},
             [init("w", r(3, 4, 3))])
    with pytest.raises(ConversionError, match="pads"):
        to_ir(m, tmp_path)
