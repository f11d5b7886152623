from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    return [] if c.out_shape() is not None else ["the output shape is unknown"]


@emitter("Expand", check=check)
def emit(e) -> None:
    out = e.out_shape()
    if tuple(out) == tuple(e.in_shape() or ()):
        e.assign(e.x)
    else:
        e.assign(f"{e.x}.expand({', '.join(map(str, out))})")


@emitter("Tile")
def emit_tile(e) -> None:
    reps = [int(r) for r in e.attr("repeats")]
    if all(r == 1 for r in reps):
        e.assign(e.x)
    else:
        e.assign(f"{e.x}.repeat({', '.join(map(str, reps))})")
