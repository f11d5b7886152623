from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    split = c.attr("split")
    if not split:
        return ["split sizes are required"]
    return []


@emitter("Split", check=check)
def emit(e) -> None:
    sizes = [int(v) for v in e.attr("split")]
    axis = int(e.attr("axis", 1))
    parts = e.ident + "_parts" if len(e.outs) > 1 else ""
    expr = f"torch.split({e.x}, [{', '.join(map(str, sizes))}], dim={axis})"
    if not parts:
        e.assign(f"{expr}[0]")
        return
    parts = e._gen.names.new(parts)
    e.assign(expr, out=parts)
    for i, out in enumerate(e.outs):
        if e.used(i):  # an unread output would be an unused variable
            e.assign(f"{parts}[{i}]", out=out)
