"""Comparison and logic ops (nnrosetta/ir/ops/logic.py): ONNX has each under the same name,
with the same (multidirectional, NumPy) broadcasting. Outputs are bool (Where: its values'
type). ONNX wants equal input types where the IR is lenient, so mixed inputs are cast first:
numbers to the floating type, logic operands and Where's condition to bool."""

from onnx import TensorProto

from nnrosetta_backend_onnx.build import FLOAT
from nnrosetta_backend_onnx.emitters import emitter

BOOL = TensorProto.BOOL
FLOATS = (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16)
COMPARISONS = ("Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Equal")
LOGIC = ("And", "Or", "Xor")


def dtype_of(e, value: str) -> int:
    return e.b.dtypes.get(value, FLOAT)


def cast(e, value: str, to: int) -> str:
    """``value`` as type ``to`` (a Cast node when it is not already)."""
    if dtype_of(e, value) == to:
        return value
    return e.node("Cast", [value], {"to": to}, dtype=to)


def same_number_type(e, values: list[str], allow_bool: bool) -> list[str]:
    """The values in one type: as they are when they agree (and bool is allowed), else in
    the floating type among them (float32 when there is none)."""
    types = [dtype_of(e, v) for v in values]
    if len(set(types)) == 1 and (allow_bool or types[0] != BOOL):
        return values
    to = next((t for t in types if t in FLOATS), FLOAT)
    return [cast(e, v, to) for v in values]


@emitter(*COMPARISONS)
def emit_comparison(e) -> None:
    a, b = same_number_type(e, list(e.inputs[:2]), allow_bool=e.op == "Equal")
    e.final(e.op, [a, b], dtype=BOOL)


@emitter(*LOGIC)
def emit_logic(e) -> None:
    e.final(e.op, [cast(e, v, BOOL) for v in e.inputs[:2]], dtype=BOOL)


@emitter("Not")
def emit_not(e) -> None:
    e.final("Not", [cast(e, e.x, BOOL)], dtype=BOOL)


@emitter("Where")
def emit_where(e) -> None:
    c, x, y = e.inputs
    x, y = same_number_type(e, [x, y], allow_bool=True)
    e.final("Where", [cast(e, c, BOOL), x, y], dtype=dtype_of(e, x))


def _float_input(e) -> str:
    return e.x if dtype_of(e, e.x) in FLOATS else cast(e, e.x, FLOAT)


@emitter("IsNaN")
def emit_isnan(e) -> None:
    e.final("IsNaN", [_float_input(e)], dtype=BOOL)


@emitter("IsInf")
def emit_isinf(e) -> None:
    e.final("IsInf", [_float_input(e)], dtype=BOOL,
            detect_negative=int(bool(e.attr("detect_negative", True))),
            detect_positive=int(bool(e.attr("detect_positive", True))))
