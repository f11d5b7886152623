from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    w = c.weight_shape("slope")
    if w is not None and len(w) > 1 and sum(d != 1 for d in w[1:]):
        return [f"slope shape {list(w)}: only [C] or [1] is supported"]
    return []


@emitter("PRelu", check=check)
def emit(e) -> None:
    slope = e.weight("slope").reshape(-1)
    layer = e.layer(f"nn.PReLU(num_parameters={slope.size})", {"weight": slope})
    e.assign(f"{layer}({e.x})")
