"""Random, seeded ``.caffemodel`` files for the zoo nets.

A caffemodel is a binary ``caffe.NetParameter``. Each layer is written the way Caffe saves it:
the full layer definition from the prototxt (parsed and serialised with ``caffe_pb2``) followed
by its parameter blobs. The blobs are encoded by hand: a ``BlobProto`` is a ``shape``
(``BlobShape``, packed int64 dims; in the V1 form ``num``/``channels``/``height``/``width``)
and a packed ``data`` field whose payload is numpy's little-endian float32 ``tobytes()``; the
file is streamed layer by layer, so VGG-16 (138M floats) never needs a Python float list nor a
second in-memory copy of the model.

Protobuf lets a message's fields appear in any order and repeated fields accumulate, so a
layer's serialised definition followed by ``blobs`` fields parses as one ``LayerParameter``.

Scales keep activations of order one through deep random nets: convolution/inner-product
weights N(0, sqrt(gain / fan_in)) (gain 2: He), biases N(0, 0.1), BatchNorm mean N(0, 0.1) and
variance U(0.5, 1.5) (both multiplied by the layer's scale factor, usually 1), Scale gamma
U(0.5, 1.5) and beta N(0, 0.1), PReLU slopes U(0.1, 0.3).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from google.protobuf import text_format

from tests.zoo.nets import BlobSpec, Layer, Net

# Field numbers (caffe.proto).
NET_LAYER = 100  # NetParameter.layer (LayerParameter)
NET_LAYERS_V1 = 2  # NetParameter.layers (V1LayerParameter)
LAYER_BLOBS = 7  # LayerParameter.blobs
V1_LAYER_BLOBS = 6  # V1LayerParameter.blobs
BLOB_NUM, BLOB_CHANNELS, BLOB_HEIGHT, BLOB_WIDTH = 1, 2, 3, 4
BLOB_DATA = 5  # repeated float, packed
BLOB_SHAPE = 7  # BlobShape
SHAPE_DIM = 1  # repeated int64, packed

_VARINT, _LEN = 0, 2


def _varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def _len_prefix(field: int, length: int) -> bytes:
    return _key(field, _LEN) + _varint(length)


def blob_header(shape: tuple[int, ...], v1: bool = False) -> bytes:
    """The bytes of a BlobProto up to (and including) the tag and length of its data field;
    the float32 payload follows."""
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if v1:
        if len(shape) > 4:
            raise ValueError(f"V1 blobs have at most 4 axes, got {shape}")
        dims = (1,) * (4 - len(shape)) + tuple(shape)
        head = b"".join(
            _key(f, _VARINT) + _varint(d)
            for f, d in zip((BLOB_NUM, BLOB_CHANNELS, BLOB_HEIGHT, BLOB_WIDTH), dims, strict=True)
        )
    else:
        dims_bytes = b"".join(_varint(d) for d in shape)
        shape_msg = _len_prefix(SHAPE_DIM, len(dims_bytes)) + dims_bytes if shape else b""
        head = _len_prefix(BLOB_SHAPE, len(shape_msg)) + shape_msg
    return head + _len_prefix(BLOB_DATA, 4 * count)


def _rng(seed: int, layer: str, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(layer.encode()), index])


def random_blob(spec: BlobSpec, rng: np.random.Generator) -> np.ndarray:
    shape = spec.shape
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if spec.kind == "he":
        a = rng.standard_normal(count, dtype=np.float32)
        a *= np.float32(np.sqrt(spec.gain / spec.fan_in))
    elif spec.kind in ("bias", "beta"):
        a = rng.standard_normal(count, dtype=np.float32)
        a *= np.float32(0.1)
    elif spec.kind == "bn_mean":
        a = rng.standard_normal(count, dtype=np.float32)
        a *= np.float32(0.1 * spec.factor)
    elif spec.kind == "bn_var":
        a = rng.uniform(0.5, 1.5, count).astype(np.float32)
        a *= np.float32(spec.factor)
    elif spec.kind == "bn_factor":
        a = np.full(count, spec.factor, np.float32)
    elif spec.kind == "gamma":
        a = rng.uniform(0.5, 1.5, count).astype(np.float32)
    elif spec.kind == "prelu":
        a = rng.uniform(0.1, 0.3, count).astype(np.float32)
    else:
        raise ValueError(f"unknown blob kind {spec.kind!r}")
    return a.reshape(shape)


def random_blobs(net: Net, seed: int) -> Iterator[tuple[Layer, list[np.ndarray]]]:
    """(layer, blobs) for every layer with parameters, in order; deterministic per (seed, layer
    name, blob index), so one layer's values do not depend on the rest of the net."""
    for layer in net.layers:
        if layer.blobs:
            yield layer, [random_blob(b, _rng(seed, layer.name, i))
                          for i, b in enumerate(layer.blobs)]


def _parse_prototxt(text: str):
    from nnrosetta.proto import caffe_pb2

    msg = caffe_pb2.NetParameter()
    text_format.Parse(text, msg)
    return msg


def write_caffemodel(net: Net, path: str | os.PathLike, seed: int) -> int:
    """Write ``net`` with random weights to ``path``; returns the number of floats written."""
    proto = _parse_prototxt(net.prototxt())
    layer_msgs = list(proto.layers if net.v1 else proto.layer)
    if [m.name for m in layer_msgs] != [layer.name for layer in net.layers]:
        raise AssertionError("parsed prototxt layers differ from the builder's")
    if net.v1:
        proto.ClearField("layers")
    else:
        proto.ClearField("layer")
    layer_field = NET_LAYERS_V1 if net.v1 else NET_LAYER
    blobs_field = V1_LAYER_BLOBS if net.v1 else LAYER_BLOBS
    floats = 0
    with open(path, "wb") as f:
        f.write(proto.SerializeToString())
        for layer, msg in zip(net.layers, layer_msgs, strict=True):
            body = msg.SerializeToString()
            blobs = []
            if layer.blobs:
                for i, b in enumerate(layer.blobs):
                    arr = np.ascontiguousarray(random_blob(b, _rng(seed, layer.name, i)),
                                               dtype="<f4")
                    head = blob_header(b.shape, v1=net.v1)
                    size = len(head) + arr.nbytes
                    blobs.append((_len_prefix(blobs_field, size) + head, arr))
                    floats += arr.size
            total = len(body) + sum(len(h) + a.nbytes for h, a in blobs)
            f.write(_len_prefix(layer_field, total))
            f.write(body)
            for head, arr in blobs:
                f.write(head)
                f.write(memoryview(arr.reshape(-1)).cast("B"))
    return floats


def read_blobs(path: str | os.PathLike) -> dict[str, list[np.ndarray]]:
    """Layer name -> parameter blobs of a caffemodel (V1 or current form), via caffe_pb2.

    Meant for the small nets: the Python protobuf runtime copies every float."""
    from nnrosetta.proto import caffe_pb2

    msg = caffe_pb2.NetParameter()
    msg.ParseFromString(Path(path).read_bytes())
    out: dict[str, list[np.ndarray]] = {}
    for layer in list(msg.layer) + list(msg.layers):
        arrays = []
        for b in layer.blobs:
            if b.HasField("shape"):
                shape = tuple(b.shape.dim)
            else:
                shape = (b.num, b.channels, b.height, b.width)
            arrays.append(np.asarray(b.data, dtype=np.float32).reshape(shape))
        if arrays:
            out[layer.name] = arrays
    return out
