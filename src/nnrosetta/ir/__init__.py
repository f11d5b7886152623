"""The nnrosetta intermediate representation: graph, op registry, serialization."""

from nnrosetta.ir.graph import Graph, Node, TensorInfo
from nnrosetta.ir.registry import Attr, all_ops, get, infer_shapes, op, run_reference, validate

__all__ = ["Attr", "Graph", "Node", "TensorInfo", "all_ops", "get", "infer_shapes", "op",
           "run_reference", "validate"]
