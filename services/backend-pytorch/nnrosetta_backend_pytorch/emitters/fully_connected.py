from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    w = c.weight_shape("weight")
    if w is not None and len(w) != 2:
        return [f"weight shape {list(w)}: FullyConnected needs [out, in]"]
    return []


@emitter("FullyConnected", check=check)
def emit(e) -> None:
    w = e.weight("weight")
    b = e.weight("bias")
    axis = int(e.attr("axis", 1))
    x = e.x
    shape = e.in_shape()
    if shape is None or len(shape) != axis + 1 or axis < 0:
        e.assign(f"torch.flatten({x}, {axis})")
        x = e.out
    args = [str(w.shape[1]), str(w.shape[0])] + ([] if b is not None else ["bias=False"])
    params = {"weight": w} if b is None else {"weight": w, "bias": b}
    layer = e.layer(f"nn.Linear({', '.join(args)})", params)
    e.assign(f"{layer}({x})")
