import numpy as np

from nnrosetta_backend_onnx.emitters import emitter


def check(c) -> list[str]:
    try:
        np.dtype(str(c.attr("dtype", "float32")))
    except TypeError:
        return [f"dtype {c.attr('dtype')!r} is not a NumPy type"]
    return []


@emitter("Input", check=check)
def emit(e) -> None:
    """Graph inputs are written by the builder (graph.input); nothing to emit."""
