"""Swish (opset 24) and SwiGLU (opset 28) as their function bodies (onnxruntime 1.32 has no
kernel for either, and the body is the definition); Mod: the op itself where the opset has it,
else its composition."""

import numpy as np
from onnx import TensorProto

from nnrosetta_backend_onnx.emitters import emitter


def _swish(e, x: str) -> str:
    """x * Sigmoid(alpha * x) as helper nodes."""
    alpha = float(e.attr("alpha", 1.0))
    z = x if alpha == 1.0 else e.node("Mul", [x, e.const(np.float32(alpha), hint="alpha")])
    return e.node("Mul", [x, e.node("Sigmoid", [z])])


@emitter("Swish")
def emit_swish(e) -> None:
    alpha = float(e.attr("alpha", 1.0))
    z = e.x if alpha == 1.0 else e.node("Mul", [e.x, e.const(np.float32(alpha), hint="alpha")])
    e.final("Mul", [e.x, e.node("Sigmoid", [z])])


@emitter("SwiGLU")
def emit_swiglu(e) -> None:
    a, b = e.inputs
    e.final("Mul", [_swish(e, a), b])


def _as_float(e, x: str) -> str:
    """A non-float operand (an integer constant) cast to float, as the IR computes."""
    if e.b.dtypes.get(x, TensorProto.FLOAT) == TensorProto.FLOAT:
        return x
    return e.node("Cast", [x], {"to": TensorProto.FLOAT})


@emitter("Mod")
def emit_mod(e) -> None:
    """Mod(fmod=1); the floor remainder (fmod=0) is Mod itself for floats only from opset
    28, before that fmod's result plus the divisor where the two differ in sign."""
    a, b = (_as_float(e, x) for x in e.inputs)
    if e.attr("fmod", False) or e.opset >= 28:
        e.final("Mod", [a, b], fmod=int(bool(e.attr("fmod", False))))
        return
    r = e.node("Mod", [a, b], {"fmod": 1})
    zero = e.const(np.float32(0.0), hint="zero")
    nonzero = e.node("Not", [e.node("Equal", [r, zero], dtype=TensorProto.BOOL)],
                     dtype=TensorProto.BOOL)
    differ = e.node("Less", [e.node("Mul", [r, b]), zero], dtype=TensorProto.BOOL)
    fix = e.node("And", [nonzero, differ], dtype=TensorProto.BOOL)
    e.final("Where", [fix, e.node("Add", [r, b]), r])
