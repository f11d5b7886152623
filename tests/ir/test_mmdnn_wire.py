"""MMdnn wire compatibility: protobuf bytes encoded by hand with MMdnn graph.proto's field
numbers decode with nnrosetta.proto.ir_pb2 to the expected values (and Graph.from_proto
reads them). The encoder below is independent of the protobuf library."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from nnrosetta.ir.graph import Graph
from nnrosetta.proto import ir_pb2

# --- a tiny protobuf encoder -----------------------------------------------------------------
VARINT, I64, LEN, I32 = 0, 1, 2, 5


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64/int32 -> 10-byte two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field: int, wire: int) -> bytes:
    return varint(field << 3 | wire)


def f_int(field: int, v: int) -> bytes:
    return key(field, VARINT) + varint(v)


def f_len(field: int, payload: bytes) -> bytes:
    return key(field, LEN) + varint(len(payload)) + payload


def f_str(field: int, s: str) -> bytes:
    return f_len(field, s.encode())


def f_float(field: int, v: float) -> bytes:
    return key(field, I32) + struct.pack("<f", v)


def packed_ints(field: int, vals) -> bytes:
    return f_len(field, b"".join(varint(v) for v in vals))


def packed_floats(field: int, vals) -> bytes:
    return f_len(field, struct.pack(f"<{len(vals)}f", *vals))


def packed_doubles(field: int, vals) -> bytes:
    return f_len(field, struct.pack(f"<{len(vals)}d", *vals))


# --- MMdnn graph.proto field numbers -----------------------------------------------------------
# GraphDef: node=1 version=2
# NodeDef: name=1 op=2 input=3 attr=4 (map entry: key=1 value=2)
# AttrValue: list=1 s=2 i=3 f=4 b=5 type=6 shape=7 tensor=8
# ListValue: s=2 i=3 f=4 b=5 type=6 shape=7 tensor=8
# TensorShape: dim=2 unknown_rank=3; Dim: size=1 name=2
# LiteralTensor: dtype=1 tensor_shape=2 version_number=3 tensor_content=4 int_val=5
#   uint_val=6 int64_val=7 uint64_val=8 float_val=9 double_val=10 bool_val=11 string_val=12
DT_INT32, DT_INT64, DT_FLOAT32, DT_FLOAT64, DT_BOOL = 3, 4, 10, 11, 14


def shape_msg(dims, names=None) -> bytes:
    names = names or [""] * len(dims)
    return b"".join(f_len(2, f_int(1, d) + (f_str(2, n) if n else b""))
                    for d, n in zip(dims, names, strict=True))


def attr(name: str, value: bytes) -> bytes:
    """One map<string, AttrValue> entry of NodeDef.attr (field 4)."""
    return f_len(4, f_str(1, name) + f_len(2, value))


def node(name: str, op: str, inputs=(), attrs=b"") -> bytes:
    return f_len(1, f_str(1, name) + f_str(2, op) + b"".join(f_str(3, i) for i in inputs)
                 + attrs)


def literal(dtype, dims, **fields) -> bytes:
    return f_int(1, dtype) + f_len(2, shape_msg(dims)) + b"".join(fields.values())


CONV_W = np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5


def mmdnn_graph_bytes() -> bytes:
    data = node("data", "DataInput", attrs=(
        attr("_output_shapes", f_len(1, f_len(7, shape_msg([-1, 224, 224, 3]))))
        + attr("dtype", f_int(6, DT_FLOAT32))
        + attr("shape", f_len(7, shape_msg([-1, 224, 224, 3], ["batch", "", "", ""])))
    ))
    conv = node("conv1", "Conv", ["data"], attrs=(
        attr("kernel_shape", f_len(1, packed_ints(3, [11, 11, 3, 96])))
        + attr("strides", f_len(1, packed_ints(3, [1, 4, 4, 1])))
        + attr("pads", f_len(1, packed_ints(3, [0, 0, 0, 0, 0, 0, 0, 0])))
        + attr("group", f_int(3, 1))
        + attr("use_bias", f_int(5, 1))
        + attr("auto_pad", f_str(2, "VALID"))
        + attr("_output_shapes", f_len(1, f_len(7, shape_msg([-1, 54, 54, 96]))))
    ))
    bn = node("bn", "BatchNorm", ["conv1"], attrs=(
        attr("epsilon", f_float(4, 0.001))
        + attr("offset", f_int(5, 0))
        + attr("neg", f_int(3, -7))
        + attr("coeffs", f_len(1, packed_floats(4, [0.5, -2.0])))
        + attr("flags", f_len(1, packed_ints(5, [1, 0, 1])))
        + attr("names", f_len(1, f_str(2, "a") + f_str(2, "bc")))
        + attr("unknown", f_len(7, f_int(3, 1)))
    ))
    const = node("const", "Constant", attrs=(
        attr("value", f_len(8, literal(DT_FLOAT32, [2, 3],
                                       c=f_len(4, CONV_W.astype("<f4").tobytes()))))
        + attr("fill", f_len(8, literal(DT_FLOAT32, [2, 2], v=f_int(3, 0),
                                        fv=packed_floats(9, [1.5]))))
        + attr("ints", f_len(8, literal(DT_INT32, [3], iv=packed_ints(5, [1, -2, 3]))))
        + attr("longs", f_len(8, literal(DT_INT64, [2], iv=packed_ints(7, [2**40, -1]))))
        + attr("doubles", f_len(8, literal(DT_FLOAT64, [2], dv=packed_doubles(10, [0.1, 2]))))
    ))
    # unpacked repeated scalars (legal; older writers) and an input with an output index
    relu = node("relu", "Relu", ["bn:0"], attrs=(
        attr("axes", f_len(1, f_int(3, 2) + f_int(3, 3)))
    ))
    return data + conv + bn + const + relu + f_int(2, 1)


def test_field_numbers_match_mmdnn():
    expected = {
        ir_pb2.GraphDef: {"node": 1, "version": 2},
        ir_pb2.NodeDef: {"name": 1, "op": 2, "input": 3, "attr": 4},
        ir_pb2.AttrValue: {"list": 1, "s": 2, "i": 3, "f": 4, "b": 5, "type": 6, "shape": 7,
                           "tensor": 8},
        ir_pb2.AttrValue.ListValue: {"s": 2, "i": 3, "f": 4, "b": 5, "type": 6, "shape": 7,
                                     "tensor": 8},
        ir_pb2.TensorShape: {"dim": 2, "unknown_rank": 3},
        ir_pb2.TensorShape.Dim: {"size": 1, "name": 2},
        ir_pb2.LiteralTensor: {"dtype": 1, "tensor_shape": 2, "version_number": 3,
                               "tensor_content": 4, "int_val": 5, "uint_val": 6,
                               "int64_val": 7, "uint64_val": 8, "float_val": 9,
                               "double_val": 10, "bool_val": 11, "string_val": 12},
    }
    for msg, fields in expected.items():
        for name, number in fields.items():
            assert msg.DESCRIPTOR.fields_by_name[name].number == number, (msg, name)
    names = ["DT_UNDEFINED", "DT_INT8", "DT_INT16", "DT_INT32", "DT_INT64", "DT_UINT8",
             "DT_UINT16", "DT_UINT32", "DT_UINT64", "DT_FLOAT16", "DT_FLOAT32", "DT_FLOAT64",
             "DT_COMPLEX64", "DT_COMPLEX128", "DT_BOOL", "DT_STRING"]
    for value, name in enumerate(names):
        assert ir_pb2.DataType.Value(name) == value


def test_hand_encoded_mmdnn_graph_decodes():
    g = ir_pb2.GraphDef.FromString(mmdnn_graph_bytes())
    assert g.version == 1
    assert [n.name for n in g.node] == ["data", "conv1", "bn", "const", "relu"]
    assert [n.op for n in g.node] == ["DataInput", "Conv", "BatchNorm", "Constant", "Relu"]
    data, conv, bn, const, relu = g.node
    assert list(conv.input) == ["data"] and list(relu.input) == ["bn:0"]

    osh = data.attr["_output_shapes"].list.shape
    assert [d.size for d in osh[0].dim] == [-1, 224, 224, 3]
    assert data.attr["dtype"].type == ir_pb2.DT_FLOAT32
    assert data.attr["shape"].shape.dim[0].name == "batch"

    assert list(conv.attr["kernel_shape"].list.i) == [11, 11, 3, 96]
    assert list(conv.attr["strides"].list.i) == [1, 4, 4, 1]
    assert conv.attr["group"].i == 1 and conv.attr["group"].WhichOneof("value") == "i"
    assert conv.attr["use_bias"].b is True
    assert conv.attr["auto_pad"].s == b"VALID"

    assert bn.attr["epsilon"].f == pytest.approx(0.001)
    assert bn.attr["offset"].WhichOneof("value") == "b" and bn.attr["offset"].b is False
    assert bn.attr["neg"].i == -7
    assert list(bn.attr["coeffs"].list.f) == [0.5, -2.0]
    assert list(bn.attr["flags"].list.b) == [True, False, True]
    assert list(bn.attr["names"].list.s) == [b"a", b"bc"]
    assert bn.attr["unknown"].shape.unknown_rank is True

    value = const.attr["value"].tensor
    assert value.dtype == ir_pb2.DT_FLOAT32
    assert [d.size for d in value.tensor_shape.dim] == [2, 3]
    assert value.tensor_content == CONV_W.astype("<f4").tobytes()
    assert list(const.attr["fill"].tensor.float_val) == [1.5]
    assert list(const.attr["ints"].tensor.int_val) == [1, -2, 3]
    assert list(const.attr["longs"].tensor.int64_val) == [2**40, -1]
    assert list(const.attr["doubles"].tensor.double_val) == [0.1, 2.0]
    assert list(relu.attr["axes"].list.i) == [2, 3]


def test_graph_from_proto_reads_mmdnn_bytes():
    graph = Graph.from_proto(ir_pb2.GraphDef.FromString(mmdnn_graph_bytes()))
    data, conv, bn, const, relu = graph.nodes
    assert data.attrs["_output_shapes"] == [[-1, 224, 224, 3]]
    assert data.attrs["dtype"] == "float32"
    assert data.attrs["shape"] == [-1, 224, 224, 3]
    assert conv.attrs["kernel_shape"] == [11, 11, 3, 96]
    assert conv.attrs["group"] == 1 and conv.attrs["use_bias"] is True
    assert conv.attrs["auto_pad"] == "VALID"
    assert bn.attrs["epsilon"] == pytest.approx(0.001)
    assert bn.attrs["coeffs"] == [0.5, -2.0]
    assert bn.attrs["flags"] == [True, False, True]
    assert bn.attrs["names"] == ["a", "bc"]
    np.testing.assert_array_equal(const.attrs["value"], CONV_W)
    assert const.attrs["value"].dtype == np.float32
    np.testing.assert_array_equal(const.attrs["fill"], np.full((2, 2), 1.5, np.float32))
    np.testing.assert_array_equal(const.attrs["ints"], np.array([1, -2, 3], np.int32))
    np.testing.assert_array_equal(const.attrs["longs"], np.array([2**40, -1], np.int64))
    np.testing.assert_array_equal(const.attrs["doubles"], np.array([0.1, 2.0]))
    assert relu.inputs == ["bn:0"] and relu.attrs["axes"] == [2, 3]
    assert graph.outputs == [] and graph.tensors == {} and graph.opset_version == 1


def test_our_encoding_decodes_as_the_hand_encoding():
    """Graph.to_proto's bytes and the hand-encoded bytes are the same message."""
    hand = ir_pb2.GraphDef.FromString(
        node("conv1", "Conv", ["data"], attrs=attr("kernel_shape", f_len(1, packed_ints(
            3, [3, 3]))) + attr("group", f_int(3, 2)) + attr("alpha", f_float(4, 0.25))
            + attr("mode", f_str(2, "max")) + attr("ceil_mode", f_int(5, 1)))
        + f_int(2, 1) + f_int(19, 1))
    ours = Graph.from_proto(hand).to_proto()
    assert ir_pb2.GraphDef.FromString(ours.SerializeToString()) == hand


def test_nnrosetta_extensions_do_not_collide():
    """nnrosetta's own fields are >= 16 so MMdnn readers skip them."""
    for fld in ir_pb2.GraphDef.DESCRIPTOR.fields:
        if fld.name not in ("node", "version"):
            assert fld.number >= 16, fld.name
    g = Graph.from_proto(ir_pb2.GraphDef.FromString(
        f_str(16, "relu") + f_len(17, f_str(1, "framework") + f_str(2, "caffe"))
        + f_len(18, f_str(1, "conv1.weight") + f_int(2, DT_FLOAT32)
                + packed_ints(3, [4, 3, 3, 3]) + f_int(4, 432))
        + f_int(19, 1)))
    assert g.outputs == ["relu"]
    assert g.metadata == {"framework": "caffe"}
    assert g.tensors["conv1.weight"].shape == (4, 3, 3, 3)
    assert g.tensors["conv1.weight"].dtype == "float32"
