"""Elementwise ops that ONNX has under the same name (with the same attributes)."""

from nnrosetta_backend_onnx.emitters import emitter

PLAIN = ("Relu", "Sigmoid", "Tanh", "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Floor",
         "Ceil", "Round", "Sign", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh",
         "Asinh", "Acosh", "Atanh", "Erf", "Softplus", "Softsign")
WITH_ATTRS = {
    "LeakyRelu": {"alpha": 0.01},
    "Elu": {"alpha": 1.0},
    "HardSigmoid": {"alpha": 0.2, "beta": 0.5},
    "Selu": {"alpha": 1.67326319217681884765625, "gamma": 1.05070102214813232421875},
    "Celu": {"alpha": 1.0},
    "ThresholdedRelu": {"alpha": 1.0},
    "Shrink": {"bias": 0.0, "lambd": 0.5},
}


@emitter(*PLAIN)
def emit(e) -> None:
    e.final(e.op, [e.x])


@emitter(*WITH_ATTRS)
def emit_attrs(e) -> None:
    e.final(e.op, [e.x], **{k: float(e.attr(k, d)) for k, d in WITH_ATTRS[e.op].items()})


@emitter("Sub", "Div", "Pow")
def emit_binary(e) -> None:
    e.final(e.op, [e.inputs[0], e.inputs[1]])
