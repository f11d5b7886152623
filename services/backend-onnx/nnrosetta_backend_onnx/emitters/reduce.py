"""Reductions: axes are an attribute before opset 18 (an input for ReduceSum from 13)."""

from nnrosetta_backend_onnx.build import INT64
from nnrosetta_backend_onnx.emitters import emitter
from nnrosetta_backend_onnx.emitters._common import ints

REDUCE = ("ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
          "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare")


@emitter(*REDUCE)
def emit(e) -> None:
    axes = ints(e.attr("axes", []))
    keep = int(bool(e.attr("keepdims", True)))
    if not axes and e.attr("noop_with_empty_axes", False):
        e.alias(e.x)
        return
    if e.op == "ReduceSum" or e.opset >= 18:
        e.final(e.op, [e.x] + ([e.ints(axes, "axes")] if axes else []), keepdims=keep)
    else:
        e.final(e.op, [e.x], keepdims=keep, **({"axes": axes} if axes else {}))


@emitter("ArgMax", "ArgMin")
def emit_arg(e) -> None:
    e.final(e.op, [e.x], dtype=INT64, axis=int(e.attr("axis", 0)),
            keepdims=int(bool(e.attr("keepdims", True))),
            select_last_index=int(bool(e.attr("select_last_index", False))))
