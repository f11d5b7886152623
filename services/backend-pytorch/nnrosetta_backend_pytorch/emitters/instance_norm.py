from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter

_CLASS = {3: "InstanceNorm1d", 4: "InstanceNorm2d", 5: "InstanceNorm3d"}


def check(c) -> list[str]:
    shape = c.in_shape()
    if shape is not None and len(shape) not in _CLASS:
        return [f"input rank {len(shape)}: InstanceNormalization needs 3-D to 5-D input"]
    return []


@emitter("InstanceNormalization", check=check)
def emit(e) -> None:
    if e.any_dynamic():  # scale or bias computed at run time
        eps = float(e.attr("epsilon", 1e-5))
        e.assign(f"F.instance_norm({e.x}, weight={e.param('scale', [-1])}, "
                 f"bias={e.param('bias', [-1])}, eps={fmt_float(eps)})")
        return
    scale, bias = e.weight("scale").reshape(-1), e.weight("bias").reshape(-1)
    shape = e.in_shape()
    cls = _CLASS.get(len(shape) if shape is not None else 4, "InstanceNorm2d")
    eps = float(e.attr("epsilon", 1e-5))
    args = [str(scale.size)] + ([f"eps={fmt_float(eps)}"] if eps != 1e-5 else [])
    args.append("affine=True")
    layer = e.layer(f"nn.{cls}({', '.join(args)})", {"weight": scale, "bias": bias})
    e.assign(f"{layer}({e.x})")
