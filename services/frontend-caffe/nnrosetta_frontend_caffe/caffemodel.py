"""A fast, memory-lean caffemodel reader.

Protobuf would decode every float of a 550 MB VGG-16 into a repeated field (slow, several
copies). Instead the NetParameter wire format is scanned here: each ``layer`` (100) /
``layers`` (2) message is found, its non-blob fields are parsed with protobuf from the bytes
with the blob fields cut out, and each BlobProto is read by hand: shape from BlobShape (7) or
the legacy num/channels/height/width (1-4), data as offsets into the memory-mapped file
(packed ``data`` (5) floats, or non-packed, or ``double_data`` (8)). Data is only copied out
when a blob is loaded, one blob at a time.
"""

from __future__ import annotations

import mmap
import os
from dataclasses import dataclass, field

import numpy as np

from nnrosetta.proto import caffe_pb2

_LAYER, _LAYERS = 100, 2          # NetParameter fields
_BLOBS = {_LAYER: 7, _LAYERS: 6}  # LayerParameter.blobs / V1LayerParameter.blobs
_NAME = {_LAYER: 1, _LAYERS: 4}


class Truncated(Exception):
    """The file ends inside a message."""

    def __init__(self, message: str, layer: str = ""):
        super().__init__(message)
        self.layer = layer


class Malformed(Exception):
    pass


def _varint(buf, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise Truncated("varint runs past the end")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7
        if shift > 70:
            raise Malformed("varint longer than 10 bytes")


def _skip(buf, pos: int, end: int, wt: int) -> int:
    if wt == 0:
        return _varint(buf, pos, end)[1]
    if wt == 1:
        pos += 8
    elif wt == 5:
        pos += 4
    elif wt == 2:
        ln, pos = _varint(buf, pos, end)
        pos += ln
    else:
        raise Malformed(f"unsupported wire type {wt}")
    if pos > end:
        raise Truncated("field runs past the end")
    return pos


@dataclass
class BlobRef:
    """A blob's shape and where its values lie in the file."""

    shape: tuple[int, ...]
    legacy: bool                                  # shape from num/channels/height/width
    # (offset, count, dtype, stride in bytes) runs of values
    runs: list[tuple[int, int, str, int]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return sum(r[1] for r in self.runs)

    def load(self, buf) -> np.ndarray:
        """The values as a float32 array of ``shape`` (a copy; the file can be closed)."""
        if len(self.runs) == 1 and self.runs[0][3] == np.dtype(self.runs[0][2]).itemsize:
            off, n, dt, _ = self.runs[0]
            a = np.frombuffer(buf, dtype=dt, count=n, offset=off).astype(np.float32)
        else:
            parts = [np.ndarray((n,), dtype=dt, buffer=buf, offset=off, strides=(st,))
                     for off, n, dt, st in self.runs]
            a = np.concatenate(parts).astype(np.float32) if parts else \
                np.zeros(0, np.float32)
        n = int(np.prod(self.shape)) if self.shape else a.size
        if a.size != n:
            raise Malformed(f"blob has {a.size} values but its shape {self.shape} needs {n}")
        return a.reshape(self.shape)


@dataclass
class ModelLayer:
    name: str
    param: object                      # LayerParameter or V1LayerParameter, without blobs
    blobs: list[BlobRef]
    form: str                          # "layer" or "layers"


def _blob_shape(buf, pos: int, end: int) -> list[int]:
    dims: list[int] = []
    while pos < end:
        tag, pos = _varint(buf, pos, end)
        f, wt = tag >> 3, tag & 7
        if f == 1 and wt == 2:
            ln, pos = _varint(buf, pos, end)
            stop = pos + ln
            while pos < stop:
                d, pos = _varint(buf, pos, stop)
                dims.append(d - (1 << 64) if d >= 1 << 63 else d)
        elif f == 1 and wt == 0:
            d, pos = _varint(buf, pos, end)
            dims.append(d - (1 << 64) if d >= 1 << 63 else d)
        else:
            pos = _skip(buf, pos, end, wt)
    return dims


def _blob(buf, pos: int, end: int) -> BlobRef:
    shape: list[int] | None = None
    legacy = [0, 0, 0, 0]
    has_legacy = False
    floats: list[tuple[int, int, str, int]] = []
    doubles: list[tuple[int, int, str, int]] = []
    while pos < end:
        tag, pos = _varint(buf, pos, end)
        f, wt = tag >> 3, tag & 7
        if f == 7 and wt == 2:
            ln, pos = _varint(buf, pos, end)
            if pos + ln > end:
                raise Truncated("blob shape runs past the end")
            shape = _blob_shape(buf, pos, pos + ln)
            pos += ln
        elif 1 <= f <= 4 and wt == 0:
            v, pos = _varint(buf, pos, end)
            legacy[f - 1] = v - (1 << 64) if v >= 1 << 63 else v
            has_legacy = True
        elif f in (5, 8) and wt == 2:          # packed data / double_data
            ln, pos = _varint(buf, pos, end)
            if pos + ln > end:
                raise Truncated("blob data runs past the end")
            size = 4 if f == 5 else 8
            if ln % size:
                raise Malformed("packed blob data is not a whole number of values")
            (floats if f == 5 else doubles).append(
                (pos, ln // size, "<f4" if f == 5 else "<f8", size))
            pos += ln
        elif (f == 5 and wt == 5) or (f == 8 and wt == 1):   # non-packed values
            size = 4 if f == 5 else 8
            tag_bytes = bytes([tag])
            start = pos
            n = 0
            pos += size
            n += 1
            while pos < end and buf[pos] == tag_bytes[0]:
                pos += 1 + size
                n += 1
            if pos > end:
                raise Truncated("blob data runs past the end")
            (floats if f == 5 else doubles).append(
                (start, n, "<f4" if f == 5 else "<f8", size + 1))
        else:
            pos = _skip(buf, pos, end, wt)
    if shape is None:
        shape = [d for d in legacy] if has_legacy else []
        is_legacy = True
    else:
        is_legacy = False
    runs = floats if floats else doubles
    if not shape and not has_legacy:
        shape = [sum(r[1] for r in runs)]
    return BlobRef(tuple(int(d) for d in shape), is_legacy, runs)


def _layer(buf, start: int, end: int, field_no: int) -> ModelLayer:
    blobs_field = _BLOBS[field_no]
    keep: list[bytes] = []
    blobs: list[BlobRef] = []
    pos = start
    while pos < end:
        fstart = pos
        tag, pos = _varint(buf, pos, end)
        f, wt = tag >> 3, tag & 7
        if f == blobs_field and wt == 2:
            ln, pos = _varint(buf, pos, end)
            if pos + ln > end:
                raise Truncated("blob runs past the end")
            blobs.append(_blob(buf, pos, pos + ln))
            pos += ln
        else:
            pos = _skip(buf, pos, end, wt)
            keep.append(bytes(buf[fstart:pos]))
    msg = caffe_pb2.LayerParameter() if field_no == _LAYER else caffe_pb2.V1LayerParameter()
    msg.ParseFromString(b"".join(keep))
    return ModelLayer(msg.name, msg, blobs, "layer" if field_no == _LAYER else "layers")


def _partial_name(buf, start: int, end: int, field_no: int) -> str:
    """The name of a layer whose message is cut off, if its name field made it."""
    pos = start
    try:
        while pos < end:
            tag, pos = _varint(buf, pos, end)
            f, wt = tag >> 3, tag & 7
            if f == _NAME[field_no] and wt == 2:
                ln, pos = _varint(buf, pos, end)
                if pos + ln <= end:
                    return bytes(buf[pos:pos + ln]).decode("utf-8", "replace")
                return ""
            pos = _skip(buf, pos, end, wt)
    except (Truncated, Malformed):
        pass
    return ""


class CaffeModel:
    """An open caffemodel: the layers (name -> blobs) with data left in the mapped file."""

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)
        self.size = os.path.getsize(self.path)
        self._f = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        self.buf = mmap.mmap(self._f.fileno(), 0, access=mmap.ACCESS_READ) if self.size \
            else b""
        self.layers: list[ModelLayer] = []
        self.name = ""
        try:
            self._scan()
        except BaseException:
            self.close()
            raise

    def _scan(self) -> None:
        buf, end = self.buf, self.size
        pos = 0
        last = ""
        while pos < end:
            tag, pos = _varint(buf, pos, end)
            f, wt = tag >> 3, tag & 7
            if wt == 2:
                ln, body = _varint(buf, pos, end)
                stop = body + ln
                if f in (_LAYER, _LAYERS):
                    if stop > end:
                        name = _partial_name(buf, body, end, f)
                        where = f"layer #{len(self.layers) + 1}" + (f" ({name!r})" if name
                                                                    else "")
                        after = f", after layer {last!r}" if last else ""
                        raise Truncated(
                            f"the caffemodel ends inside {where}{after}: {end} bytes, but "
                            f"that layer needs {stop - end} more", name or last)
                    try:
                        layer = _layer(buf, body, stop, f)
                    except Truncated as e:
                        raise Truncated(f"layer #{len(self.layers) + 1} after {last!r} is "
                                        f"corrupt: {e}", last) from e
                    self.layers.append(layer)
                    last = layer.name
                elif f == 1 and stop <= end:
                    self.name = bytes(buf[body:stop]).decode("utf-8", "replace")
                if stop > end:
                    raise Truncated(f"the caffemodel ends inside a field after layer {last!r}",
                                    last)
                pos = stop
            else:
                pos = _skip(buf, pos, end, wt)

    def blobs_by_layer(self) -> dict[str, list[BlobRef]]:
        out: dict[str, list[BlobRef]] = {}
        for lay in self.layers:
            if lay.blobs and lay.name not in out:
                out[lay.name] = lay.blobs
        return out

    def close(self) -> None:
        if isinstance(self.buf, mmap.mmap):
            try:
                self.buf.close()
            except BufferError:
                pass   # an array still views the map; it closes when that goes away
        self._f.close()

    def __enter__(self) -> CaffeModel:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
