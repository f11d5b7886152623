import numpy as np

from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter

_CLASS = {2: "BatchNorm1d", 3: "BatchNorm1d", 4: "BatchNorm2d", 5: "BatchNorm3d"}


def check(c) -> list[str]:
    shape = c.in_shape() if c.node.inputs else None
    if shape is not None and len(shape) not in _CLASS:
        return [f"input rank {len(shape)}: BatchNorm needs 2-D to 5-D input"]
    return []


def _functional(e) -> None:
    """F.batch_norm (inference) with statistics or affine parameters computed at run time;
    stored statistics become buffers, a stored scale/bias an nn.Parameter."""
    args = [e.x]
    for role in ("mean", "var"):
        if e.dynamic(role):
            args.append(e.param(role, [-1]))
        else:
            args.append(e.buffer(e.weight(role).reshape(-1), suffix=f"running_{role}"))
    for role in ("scale", "bias"):
        if e.dynamic(role) or e.has_weight(role):
            args.append(e.param(role, [-1]))
        else:
            args.append("None")
    args += ["training=False", f"eps={fmt_float(e.attr('epsilon', 1e-5))}"]
    e.assign(f"F.batch_norm({', '.join(args)})")


@emitter("BatchNorm", check=check)
def emit(e) -> None:
    if e.any_dynamic():
        _functional(e)
        return
    mean = e.weight("mean").reshape(-1)
    var = e.weight("var").reshape(-1)
    scale, bias = e.weight("scale"), e.weight("bias")
    c = mean.size
    shape = e.in_shape()
    cls = _CLASS.get(len(shape) if shape is not None else 4, "BatchNorm2d")
    args = [str(c), f"eps={fmt_float(e.attr('epsilon', 1e-5))}",
            f"momentum={fmt_float(e.attr('momentum', 0.1))}"]
    params = {}
    if scale is None and bias is None:
        args.append("affine=False")
    else:
        params["weight"] = (scale if scale is not None else np.ones(c, np.float32)).reshape(-1)
        params["bias"] = (bias if bias is not None else np.zeros(c, np.float32)).reshape(-1)
    params["running_mean"] = mean
    params["running_var"] = var
    params["num_batches_tracked"] = np.zeros((), np.int64)
    e.assign(f"{e.layer(f'nn.{cls}(' + ', '.join(args) + ')', params)}({e.x})")
