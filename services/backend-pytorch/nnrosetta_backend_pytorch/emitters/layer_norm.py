import numpy as np

from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    if c.in_shape() is None:
        return ["the input shape is unknown (needed for the normalized shape)"]
    return []


@emitter("LayerNormalization", check=check)
def emit(e) -> None:
    """nn.LayerNorm over x.shape[axis:]; a scale/bias that only broadcasts to those dims is
    expanded to their full shape."""
    shape = e.in_shape()
    norm = tuple(int(d) for d in shape[int(e.attr("axis", -1)) % len(shape):])
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
