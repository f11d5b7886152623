"""Emitters of the comparison and logic ops (nnrosetta/ir/ops/logic.py): Python operators on
tensors (``a < b``, ``a == b``, ``~x``, ``a & b``), ``torch.where``, ``torch.isnan`` /
``torch.isinf``. Tensor operators broadcast like the IR (NumPy rules)."""

from nnrosetta_backend_pytorch.emitters import emitter

# IR op -> Python operator (bool tensors out)
OPERATORS = {
    "Less": "<", "LessOrEqual": "<=", "Greater": ">", "GreaterOrEqual": ">=", "Equal": "==",
    "And": "&", "Or": "|", "Xor": "^",
}


def _binary(symbol: str):
    def emit(e) -> None:
        a, b = e.inputs
        e.assign(f"{a} {symbol} {b}")
    return emit


for _op, _symbol in OPERATORS.items():
    emitter(_op)(_binary(_symbol))


@emitter("Not")
def emit_not(e) -> None:
    e.assign(f"~{e.x}")


@emitter("Where")
def emit_where(e) -> None:
    c, x, y = e.inputs
    e.assign(f"torch.where({c}, {x}, {y})")


@emitter("IsNaN")
def emit_isnan(e) -> None:
    e.assign(f"torch.isnan({e.x})")


@emitter("IsInf")
def emit_isinf(e) -> None:
    pos = bool(e.attr("detect_positive", True))
    neg = bool(e.attr("detect_negative", True))
    if pos and neg:
        e.assign(f"torch.isinf({e.x})")
    elif pos:
        e.assign(f"torch.isposinf({e.x})")
    elif neg:
        e.assign(f"torch.isneginf({e.x})")
    else:
        e.assign(f"torch.zeros_like({e.x}, dtype=torch.bool)")
