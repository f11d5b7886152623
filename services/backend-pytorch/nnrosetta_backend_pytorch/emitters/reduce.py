"""The Reduce* family and ArgMax / ArgMin."""

from nnrosetta.ir.ops.reduce import reduce_axes
from nnrosetta_backend_pytorch.emitters import emitter

# op -> (function of "x" and the dim/keepdim arguments, as a format string)
_FORMS = {
    "ReduceSum": "torch.sum({x}{args})",
    "ReduceMean": "torch.mean({x}{args})",
    "ReduceMax": "torch.amax({x}{args})",
    "ReduceMin": "torch.amin({x}{args})",
    "ReduceL1": "torch.linalg.vector_norm({x}, 1{args})",
    "ReduceL2": "torch.linalg.vector_norm({x}{args})",
    "ReduceLogSum": "torch.log(torch.sum({x}{args}))",
    "ReduceLogSumExp": "torch.logsumexp({x}{args})",
    "ReduceSumSquare": "torch.sum(torch.square({x}){args})",
}
_NEED_DIM = {"ReduceLogSumExp"}  # no all-dims overload without dim


def check(c) -> list[str]:
    if c.in_shape() is None:
        return ["the input shape is unknown (needed to resolve the reduced axes)"]
    return []


def _emit_reduce(e) -> None:
    rank = len(e.in_shape())
    axes = reduce_axes(e.attrs, rank)
    keep = bool(e.attr("keepdims", True))
    if not axes:
        e.assign(e.x)
        return
    if e.node.op == "ReduceProd":  # torch.prod reduces one dim at a time
        if len(axes) == rank and not keep:
            e.assign(f"torch.prod({e.x})")
            return
        expr = e.x
        for a in (axes if keep else sorted(axes, reverse=True)):
            expr = f"torch.prod({expr}, {a}" + (", keepdim=True)" if keep else ")")
        e.assign(expr)
        return
    if len(axes) == rank and not keep and e.node.op not in _NEED_DIM:
        args = ""
    else:
        dim = str(axes[0]) if len(axes) == 1 else "[" + ", ".join(map(str, axes)) + "]"
        args = f", dim={dim}" + (", keepdim=True" if keep else "")
    e.assign(_FORMS[e.node.op].format(x=e.x, args=args))


for _op in [*_FORMS, "ReduceProd"]:
    emitter(_op, check=check)(_emit_reduce)


def _emit_arg(e) -> None:
    fn = "torch.argmax" if e.node.op == "ArgMax" else "torch.argmin"
    axis = int(e.attr("axis", 0))
    shape = e.in_shape()
    if axis < 0:
        axis %= len(shape)
    keep = ", keepdim=True" if e.attr("keepdims", True) else ""
    if e.attr("select_last_index", False):  # the first index of the flipped axis
        e.assign(f"{shape[axis] - 1} - {fn}({e.x}.flip({axis}), dim={axis}{keep})")
    else:
        e.assign(f"{fn}({e.x}, dim={axis}{keep})")


def check_arg(c) -> list[str]:
    if c.in_shape() is None and (c.attr("axis", 0) < 0 or c.attr("select_last_index", False)):
        return ["the input shape is unknown"]
    return []


emitter("ArgMax", check=check_arg)(_emit_arg)
emitter("ArgMin", check=check_arg)(_emit_arg)
