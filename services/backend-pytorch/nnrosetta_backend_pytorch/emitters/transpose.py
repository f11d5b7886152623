from nnrosetta_backend_pytorch.emitters import emitter


def _perm(e) -> list[int]:
    perm = [int(p) for p in e.attr("perm", [])]
    if not perm:
        shape = e.in_shape()
        perm = list(range(len(shape)))[::-1]
    return perm


def check(c) -> list[str]:
    if not c.attr("perm") and c.in_shape() is None:
        return ["perm = [] needs the input rank, and the input shape is unknown"]
    return []


@emitter("Transpose", check=check)
def emit(e) -> None:
    perm = _perm(e)
    if perm == sorted(perm):
        e.assign(e.x)
    else:
        e.assign(f"{e.x}.permute({', '.join(map(str, perm))})")
