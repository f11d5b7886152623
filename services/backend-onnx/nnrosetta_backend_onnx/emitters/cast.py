from nnrosetta_backend_onnx.build import elem_type
from nnrosetta_backend_onnx.emitters import emitter


@emitter("Cast")
def emit(e) -> None:
    """ONNX Cast, ``to`` the TensorProto type of the IR dtype name."""
    to = elem_type(e.attr("to"))
    e.final("Cast", [e.x], dtype=to, to=to)
