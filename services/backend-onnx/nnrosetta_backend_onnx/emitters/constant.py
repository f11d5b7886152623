from nnrosetta_backend_onnx.build import elem_type
from nnrosetta_backend_onnx.emitters import emitter


@emitter("Constant")
def emit(e) -> None:
    """The weight becomes an initializer; an Identity gives it the node's output name."""
    value = e.weight("value")
    e.final("Identity", [value], dtype=elem_type(e.weight_dtype("value") or "float32"))
