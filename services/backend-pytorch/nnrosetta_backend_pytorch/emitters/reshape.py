from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    shape = c.attr("shape")
    if shape is None:
        return ["shape is required"]
    if sum(1 for d in shape if d == -1) > 1:
        return [f"shape {list(shape)} has more than one -1"]
    return []


@emitter("Reshape", check=check)
def emit(e) -> None:
    dims = [f"{e.x}.shape[{i}]" if d == 0 else str(int(d))
            for i, d in enumerate(e.attr("shape"))]
    e.assign(f"{e.x}.reshape({', '.join(dims)})" if dims else f"{e.x}.reshape(())")
