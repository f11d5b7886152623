from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


@emitter("GroupNormalization")
def emit(e) -> None:
    if e.any_dynamic():  # scale or bias computed at run time
        eps = float(e.attr("epsilon", 1e-5))
        e.assign(f"F.group_norm({e.x}, {int(e.attr('num_groups'))}, "
                 f"{e.param('scale', [-1])}, {e.param('bias', [-1])}, eps={fmt_float(eps)})")
        return
    scale, bias = e.weight("scale").reshape(-1), e.weight("bias").reshape(-1)
    args = [str(int(e.attr("num_groups"))), str(scale.size)]
    eps = float(e.attr("epsilon", 1e-5))
    if eps != 1e-5:
        args.append(f"eps={fmt_float(eps)}")
    layer = e.layer(f"nn.GroupNorm({', '.join(args)})", {"weight": scale, "bias": bias})
    e.assign(f"{layer}({e.x})")
