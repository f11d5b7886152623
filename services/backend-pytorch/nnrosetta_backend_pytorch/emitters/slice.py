from nnrosetta.ir.ops.slice import slice_len, slice_ranges
from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    if c.in_shape() is None:
        return ["the input shape is unknown (needed to resolve the slice bounds)"]
    try:
        slice_ranges(c.attrs, c.in_shape())
    except ValueError as err:
        return [str(err)]
    return []


def _part(start: int, stop: int, step: int, dim: int) -> str:
    s = "" if start == 0 else str(start)
    e = "" if stop >= dim else str(stop)
    return f"{s}:{e}" + ("" if step == 1 else f":{step}")


@emitter("Slice", check=check)
def emit(e) -> None:
    """Bounds resolved against the static input shape; a negative step becomes a flip of the
    axis followed by a positive-step slice."""
    shape = e.in_shape()
    parts = [":"] * len(shape)
    flips = []
    for a, s, stop, st in slice_ranges(e.attrs, shape):
        d = int(shape[a])
        if st > 0:
            parts[a] = _part(s, stop, st, d) if s < stop else "0:0"
            continue
        n = slice_len(s, stop, st)
        flips.append(a)
        if n == 0:
            parts[a] = "0:0"
        else:  # index i of x is index d - 1 - i of x.flip(a)
            first = d - 1 - s
            parts[a] = _part(first, first + (n - 1) * -st + 1, -st, d)
    while parts and parts[-1] == ":":
        parts.pop()
    src = e.x
    if flips:
        src += f".flip({flips[0]})" if len(flips) == 1 else f".flip({sorted(flips)})"
    e.assign(f"{src}[{', '.join(parts)}]" if parts else src)
