"""What a layer converter is: a pure function ``(layer, ctx) -> Out``.

A converter reads its Caffe layer (``Layer``) and asks the context (``ConvertContext`` in
``convert.py``) for the IR refs and shapes of its bottoms and for its weight blobs; it returns
IR nodes and weight tensors and touches nothing else. Problems are raised as ``LayerIssue``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import grpc
import numpy as np

from nnrosetta.ir.graph import Node
from nnrosetta.proto import caffe_pb2


class LayerIssue(Exception):
    """A problem with one layer; becomes an Issue located at the layer."""

    def __init__(self, code: str, message: str,
                 status: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class Unsupported(LayerIssue):
    """A layer (or one of its settings) the frontend cannot express in the IR."""

    def __init__(self, message: str, code: str = "UNSUPPORTED_PARAM"):
        super().__init__(code, message, grpc.StatusCode.UNIMPLEMENTED)


@dataclass
class Tensor:
    """A weight tensor: its shape now, its data on demand (``load`` is None in Check
    without a caffemodel)."""

    shape: tuple[int, ...]
    load: Callable[[], np.ndarray] | None = None
    dtype: str = "float32"

    def map(self, fn: Callable[[np.ndarray], np.ndarray],
            shape: tuple[int, ...] | None = None) -> Tensor:
        src = self.load
        return Tensor(tuple(shape if shape is not None else self.shape),
                      None if src is None else (lambda: fn(src())), self.dtype)


@dataclass
class Layer:
    """One Caffe layer in the current (``layer``) form; V1 layers are upgraded to it."""

    param: caffe_pb2.LayerParameter
    index: int
    form: str = "layer"          # "layer" or "layers" (V1)

    @property
    def name(self) -> str:
        return self.param.name

    @property
    def type(self) -> str:
        return self.param.type

    @property
    def bottom(self) -> list[str]:
        return list(self.param.bottom)

    @property
    def top(self) -> list[str]:
        return list(self.param.top)


@dataclass
class Out:
    nodes: list[Node] = field(default_factory=list)
    weights: dict[str, Tensor] = field(default_factory=dict)   # tensor name -> Tensor
    tops: list[str] | None = None   # IR ref per top; default: outputs of the last node


class Context(Protocol):
    options: dict[str, str]

    def ref(self, blob: str) -> str: ...

    def shape(self, blob: str) -> tuple[int, ...] | None: ...

    def blob(self, layer: Layer, index: int, expected: tuple[int | None, ...],
             what: str) -> Tensor: ...

    def has_blob(self, layer: Layer, index: int) -> bool: ...

    def input_shape(self, blob: str, declared: tuple[int, ...] | None) -> tuple[int, ...]: ...


ConverterFn = Callable[[Layer, Context], Out]
CONVERTERS: dict[str, ConverterFn] = {}


def converter(caffe_type: str) -> Callable[[ConverterFn], ConverterFn]:
    """Register the converter of one Caffe layer type; a second one for a type is refused."""

    def deco(fn: ConverterFn) -> ConverterFn:
        if caffe_type in CONVERTERS:
            raise ValueError(f"Caffe layer type {caffe_type!r} has two converters")
        CONVERTERS[caffe_type] = fn
        return fn

    return deco


def node(layer: Layer, op: str, inputs: list[str], name: str | None = None,
         **attrs: Any) -> Node:
    return Node(name or layer.name, op, list(inputs), dict(attrs))


def one_bottom(layer: Layer) -> str:
    if len(layer.bottom) != 1 or len(layer.top) != 1:
        raise Unsupported(f"{layer.type} layer {layer.name!r} with {len(layer.bottom)} bottoms "
                          f"and {len(layer.top)} tops (the frontend handles 1 and 1)")
    return layer.bottom[0]


def need_shape(ctx: Context, layer: Layer, blob: str) -> tuple[int, ...]:
    s = ctx.shape(blob)
    if s is None:
        raise LayerIssue("UNKNOWN_SHAPE", f"{layer.type} layer {layer.name!r} needs the shape "
                         f"of blob {blob!r}, which could not be inferred")
    return s


def canon_axis(axis: int, rank: int | None, layer: Layer) -> int:
    if axis >= 0:
        return axis
    if rank is None:
        raise LayerIssue("UNKNOWN_SHAPE", f"layer {layer.name!r}: negative axis {axis} needs "
                         "the input rank")
    if axis < -rank:
        raise LayerIssue("BAD_PARAM", f"layer {layer.name!r}: axis {axis} out of range for "
                         f"rank {rank}")
    return axis + rank
