from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


@emitter("GroupNormalization")
def emit(e) -> None:
    scale, bias = e.weight("scale").reshape(-1), e.weight("bias").reshape(-1)
    args = [str(int(e.attr("num_groups"))), str(scale.size)]
    eps = float(e.attr("epsilon", 1e-5))
    if eps != 1e-5:
        args.append(f"eps={fmt_float(eps)}")
    layer = e.layer(f"nn.GroupNorm({', '.join(args)})", {"weight": scale, "bias": bias})
    e.assign(f"{layer}({e.x})")
