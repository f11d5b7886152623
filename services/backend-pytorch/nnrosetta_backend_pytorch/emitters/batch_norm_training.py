from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    shape = c.in_shape() if c.node.inputs else None
    if shape is None:
        return ["the input shape is unknown (needed for the statistics' axes)"]
    if len(shape) < 2:
        return [f"input rank {len(shape)}: BatchNormTraining needs N, C, ..."]
    return []


def _stat(e, role: str) -> str:
    """The running statistic ``role`` before the update: the input when computed at run time,
    else a buffer (saved with the weights, never trained)."""
    if e.dynamic(role):
        return e.param(role, [-1])
    return e.buffer(e.weight(role).reshape(-1), suffix=f"running_{role}")


@emitter("BatchNormTraining", check=check)
def emit(e) -> None:
    """Explicit batch statistics (mean and biased variance over N and the spatial dims), the
    normalization with them, and the running statistics updated as
    ``(1 - momentum) * old + momentum * batch`` (biased variance, as ONNX; nn.BatchNorm would
    use the unbiased one). Nothing is updated in place: the new statistics are outputs."""
    rank = len(e.in_shape())
    dims = "(" + ", ".join(str(d) for d in [0, *range(2, rank)]) + ("," if rank == 2 else "")
    dims += ")"
    view = "1, -1" + ", 1" * (rank - 2)
    eps = fmt_float(float(e.attr("epsilon", 1e-5)))
    m = float(e.attr("momentum", 0.1))
    mean_v = e._gen.names.new(f"{e.ident}_batch_mean")
    var_v = e._gen.names.new(f"{e.ident}_batch_var")
    e.line(f"# {e.name}: batch statistics over dims {dims} (training mode)")
    e.assign(f"{e.x}.mean(dim={dims})", out=mean_v)
    if e.used(0) or e.used(2):
        e.assign(f"{e.x}.var(dim={dims}, unbiased=False)", out=var_v)
    if e.used(0):
        centered = e._gen.names.new(f"{e.ident}_centered")
        e.assign(f"{e.x} - {mean_v}.reshape({view})", out=centered)
        expr = f"{centered} * torch.rsqrt({var_v}.reshape({view}) + {eps})"
        scale = e.param("scale", [-1]) if e.has_weight("scale") or e.dynamic("scale") else None
        bias = e.param("bias", [-1]) if e.has_weight("bias") or e.dynamic("bias") else None
        if scale is not None:
            expr = f"{expr} * {scale}.reshape({view})"
        if bias is not None:
            expr = f"{expr} + {bias}.reshape({view})"
        e.assign(expr)
    for i, role, batch in ((1, "mean", mean_v), (2, "var", var_v)):
        if e.used(i):
            old = _stat(e, role)
            e.assign(f"{fmt_float(1.0 - m)} * {old} + {fmt_float(m)} * {batch}",
                     out=e.outs[i])
