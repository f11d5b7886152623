import numpy as np

from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    if c.in_shape() is None:
        return ["the input shape is unknown (needed for the normalized shape)"]
    return []


def _stats(e, axis: int, rank: int) -> None:
    """The Mean and InvStdDev outputs, when read: statistics over dims axis .. rank - 1."""
    dims = "(" + ", ".join(str(d) for d in range(axis, rank)) + ("," if rank - axis == 1 else "")
    dims += ")"
    eps = fmt_float(float(e.attr("epsilon", 1e-5)))
    if e.used(1) or e.used(2):
        e.assign(f"{e.x}.mean(dim={dims}, keepdim=True)", out=e.outs[1])
    if len(e.outs) > 2 and e.used(2):
        e.assign(f"torch.rsqrt({e.x}.var(dim={dims}, unbiased=False, keepdim=True) + {eps})",
                 out=e.outs[2])


def _functional(e, norm: tuple[int, ...]) -> None:
    """F.layer_norm with scale / bias computed at run time; one that only broadcasts to the
    normalized dims is applied after the normalization."""
    shapes = {r: e.param_shape(r) for r in ("scale", "bias")}
    exact = all(s is None or tuple(s) == norm for s in shapes.values())
    eps = fmt_float(float(e.attr("epsilon", 1e-5)))
    has_bias = e.dynamic("bias") or e.has_weight("bias")
    dims = "[" + ", ".join(map(str, norm)) + "]"
    if exact:
        bias = e.param("bias") if has_bias else "None"
        e.assign(f"F.layer_norm({e.x}, {dims}, {e.param('scale')}, {bias}, eps={eps})")
        return
    expr = f"F.layer_norm({e.x}, {dims}, eps={eps}) * {e.param('scale')}"
    if has_bias:
        expr += f" + {e.param('bias')}"
    e.assign(expr)


@emitter("LayerNormalization", check=check)
def emit(e) -> None:
    """nn.LayerNorm over x.shape[axis:]; a scale/bias that only broadcasts to those dims is
    expanded to their full shape. Scale or bias computed at run time: F.layer_norm. The Mean
    and InvStdDev outputs are computed beside it when read."""
    shape = e.in_shape()
    axis = int(e.attr("axis", -1)) % len(shape)
    norm = tuple(int(d) for d in shape[axis:])
    if len(e.outs) > 1:
        _stats(e, axis, len(shape))
    if e.any_dynamic():
        _functional(e, norm)
        return
    scale, bias = e.weight("scale"), e.weight("bias")
    params = {"weight": np.ascontiguousarray(np.broadcast_to(scale, norm), dtype=scale.dtype)}
    if bias is not None:
        params["bias"] = np.ascontiguousarray(np.broadcast_to(bias, norm), dtype=bias.dtype)
    args = [str(norm[0]) if len(norm) == 1 else "[" + ", ".join(map(str, norm)) + "]"]
    eps = float(e.attr("epsilon", 1e-5))
    if eps != 1e-5:
        args.append(f"eps={fmt_float(eps)}")
    if bias is None:
        args.append("bias=False")
    layer = e.layer(f"nn.LayerNorm({', '.join(args)})", params)
    e.assign(f"{layer}({e.x})")
