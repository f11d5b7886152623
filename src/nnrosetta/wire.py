"""Moving tensors and files over gRPC in chunks of at most 4 MiB (gRPC's default message limit
is 4 MiB; we never raise it, we chunk)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnrosetta.ir.graph import dtype_from_proto, dtype_to_proto
from nnrosetta.proto import converter_pb2 as pb

CHUNK_BYTES = 4 * 1024 * 1024 - 64 * 1024  # payload; leaves room for the message's fields


def tensor_chunks(name: str, arr: np.ndarray, chunk: int = CHUNK_BYTES) -> Iterator[pb.TensorChunk]:
    arr = np.ascontiguousarray(arr)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    dt = dtype_to_proto(arr.dtype)
    shape = list(arr.shape)
    buf = memoryview(arr.reshape(-1).view(np.uint8)) if arr.size else memoryview(b"")
    n = len(buf)
    off = 0
    while True:
        end = min(off + chunk, n)
        yield pb.TensorChunk(name=name, dtype=dt, shape=shape, offset=off,
                             data=bytes(buf[off:end]), last=end >= n)
        off = end
        if off >= n:
            return


def file_chunks(name: str, data: bytes | memoryview, chunk: int = CHUNK_BYTES,
                ) -> Iterator[pb.FileChunk]:
    mv = memoryview(data)
    n = len(mv)
    off = 0
    while True:
        end = min(off + chunk, n)
        yield pb.FileChunk(name=name, offset=off, data=bytes(mv[off:end]), last=end >= n,
                           size=n if off == 0 else 0)
        off = end
        if off >= n:
            return


def path_chunks(name: str, path: str | os.PathLike, chunk: int = CHUNK_BYTES,
                ) -> Iterator[pb.FileChunk]:
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        off = 0
        while True:
            data = f.read(chunk)
            end = off + len(data)
            yield pb.FileChunk(name=name, offset=off, data=data, last=end >= size,
                               size=size if off == 0 else 0)
            off = end
            if off >= size:
                return


class ChunkError(ValueError):
    pass


@dataclass
class TensorAssembler:
    """Reassembles TensorChunks into arrays, preallocating each tensor once."""

    done: dict[str, np.ndarray] = field(default_factory=dict)
    _open: dict[str, tuple[np.ndarray, int]] = field(default_factory=dict)

    def add(self, c: pb.TensorChunk) -> tuple[str, np.ndarray] | None:
        """Returns (name, array) when c completes a tensor."""
        if c.name in self._open:
            arr, filled = self._open[c.name]
        else:
            if c.offset != 0:
                raise ChunkError(f"tensor {c.name!r}: first chunk at offset {c.offset}")
            dtype = dtype_from_proto(c.dtype)
            arr = np.empty(tuple(c.shape), dtype=dtype)
            filled = 0
        if c.offset != filled:
            raise ChunkError(f"tensor {c.name!r}: chunk at offset {c.offset}, expected {filled}")
        flat = arr.reshape(-1).view(np.uint8)
        end = filled + len(c.data)
        if end > flat.size:
            raise ChunkError(f"tensor {c.name!r}: more data than its shape {list(c.shape)} holds")
        flat[filled:end] = np.frombuffer(c.data, dtype=np.uint8)
        if c.last:
            self._open.pop(c.name, None)
            if end != flat.size:
                raise ChunkError(f"tensor {c.name!r}: {end} bytes of {flat.size}")
            self.done[c.name] = arr
            return c.name, arr
        self._open[c.name] = (arr, end)
        return None

    def incomplete(self) -> list[str]:
        return list(self._open)


@dataclass
class FileAssembler:
    """Reassembles FileChunks into bytes, in memory or into a folder."""

    folder: str | None = None
    files: dict[str, bytearray] = field(default_factory=dict)
    paths: dict[str, str] = field(default_factory=dict)
    _sizes: dict[str, int] = field(default_factory=dict)
    _complete: set[str] = field(default_factory=set)
    _handles: dict[str, Any] = field(default_factory=dict)

    def add(self, c: pb.FileChunk) -> None:
        if not c.name or "/" in c.name or "\\" in c.name or c.name in (".", ".."):
            raise ChunkError(f"bad file name {c.name!r}: plain names only")
        got = self._sizes.get(c.name, 0)
        if c.offset != got:
            raise ChunkError(f"file {c.name!r}: chunk at offset {c.offset}, expected {got}")
        if self.folder is None:
            self.files.setdefault(c.name, bytearray()).extend(c.data)
        else:
            f = self._handles.get(c.name)
            if f is None:
                path = os.path.join(self.folder, c.name)
                f = self._handles[c.name] = open(path, "wb")  # noqa: SIM115 - closed on last
                self.paths[c.name] = path
            f.write(c.data)
            if c.last:
                self._handles.pop(c.name).close()
        self._sizes[c.name] = got + len(c.data)
        if c.last:
            self._complete.add(c.name)

    def complete(self, name: str) -> bool:
        return name in self._complete

    def names(self) -> list[str]:
        return list(self._sizes)

    def close(self) -> None:
        for f in self._handles.values():
            f.close()
        self._handles.clear()

    def data(self, name: str) -> bytes:
        if self.folder is None:
            return bytes(self.files[name])
        with open(self.paths[name], "rb") as f:
            return f.read()


def iter_model(files: Iterable[tuple[str, str | os.PathLike]]) -> Iterator[pb.FileChunk]:
    for name, path in files:
        yield from path_chunks(name, path)
