from nnrosetta_backend_onnx.emitters import emitter


def check(c) -> list[str]:
    return [] if c.attr("split") else ["split sizes are required"]


@emitter("Split", check=check)
def emit(e) -> None:
    """Split with the sizes as an input (opset >= 13)."""
    e.node("Split", [e.x, e.ints(e.attr("split"), "split")], {"axis": int(e.attr("axis", 1))},
           outputs=e.outs)
