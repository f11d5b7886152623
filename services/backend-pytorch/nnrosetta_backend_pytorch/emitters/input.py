from nnrosetta_backend_pytorch.emitters import emitter

_DTYPES = {"float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool"}


def check(c) -> list[str]:
    dt = c.attr("dtype", "float32")
    return [] if dt in _DTYPES else [f"input dtype {dt!r} has no torch dtype"]


@emitter("Input", check=check)
def emit(e) -> None:
    """Inputs are forward's arguments; the code generator names them."""
