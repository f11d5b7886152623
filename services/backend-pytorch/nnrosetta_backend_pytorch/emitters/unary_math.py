"""Emitters of the attribute-free unary ops (nnrosetta/ir/ops/unary_math.py), from one table:
math functions as ``torch.<fn>(x)``, activations as parameterless ``nn`` modules."""

from nnrosetta_backend_pytorch.emitters import emitter

# IR op -> torch function (called as torch.<fn>(x))
FUNCTIONS = {
    "Exp": "exp", "Log": "log", "Sqrt": "sqrt", "Reciprocal": "reciprocal", "Floor": "floor",
    "Ceil": "ceil", "Round": "round", "Sign": "sign", "Sin": "sin", "Cos": "cos", "Tan": "tan",
    "Asin": "asin", "Acos": "acos", "Atan": "atan", "Sinh": "sinh", "Cosh": "cosh",
    "Asinh": "asinh", "Acosh": "acosh", "Atanh": "atanh", "Erf": "erf",
}
# IR op -> nn module constructor
MODULES = {
    "Softplus": "nn.Softplus()", "Softsign": "nn.Softsign()", "Mish": "nn.Mish()",
    "HardSwish": "nn.Hardswish()",
}


def _function(fn: str):
    def emit(e) -> None:
        e.assign(f"torch.{fn}({e.x})")
    return emit


def _module(ctor: str):
    def emit(e) -> None:
        e.assign(f"{e.layer(ctor)}({e.x})")
    return emit


@emitter("Neg")
def emit_neg(e) -> None:
    e.assign(f"-{e.x}")


for _op, _fn in FUNCTIONS.items():
    emitter(_op)(_function(_fn))
for _op, _ctor in MODULES.items():
    emitter(_op)(_module(_ctor))
