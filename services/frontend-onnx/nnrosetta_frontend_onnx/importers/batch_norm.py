"""BatchNormalization -> IR BatchNorm (inference: running statistics) or, with
training_mode=1 (opset 14), IR BatchNormTraining (batch statistics; outputs Y and the updated
running mean and variance)."""

from nnrosetta.ir.graph import make_ref
from nnrosetta_frontend_onnx.importers._base import (
    NodeIssue,
    Out,
    Unsupported,
    bind_inputs,
    importer,
    node,
    only_first_output,
)


@importer("BatchNormalization", since=1, ir_ops=["BatchNorm", "BatchNormTraining"])
def batch_norm(onode, ctx) -> Out:
    training = onode.opset >= 14 and bool(int(onode.attr("training_mode", 0)))
    if not training:
        only_first_output(onode, ctx)
    if onode.opset < 9 and int(onode.attr("spatial", 1)) != 1:
        raise Unsupported(f"{onode.label}: spatial=0 (per-element statistics)")
    x = ctx.need_shape(onode, onode.input(0))
    if len(x) < 2:
        raise NodeIssue("BAD_SHAPE", f"{onode.label}: input of shape {list(x)} has no "
                        "channel axis")
    c = x[1]
    # ONNX: running = running * momentum + batch * (1 - momentum); PyTorch (IR) the reverse
    n = node(onode, "BatchNormTraining" if training else "BatchNorm", [ctx.ref(onode.input(0))],
             epsilon=float(onode.attr("epsilon", 1e-5)),
             momentum=round(1.0 - float(onode.attr("momentum", 0.9)), 7))
    weights, bound = {}, {}
    for i, role in ((1, "scale"), (2, "bias"), (3, "mean"), (4, "var")):
        if not ctx.is_const(onode.input(i)):  # computed at run time: bound to an input
            shape = ctx.shape(onode.input(i))
            if shape is not None and tuple(shape) != (c,):
                raise Unsupported(f"{onode.label}: {role} computed at run time has shape "
                                  f"{list(shape)}, expected [{c}]")
            bound[role] = ctx.ref(onode.input(i))
            continue
        t = ctx.tensor(onode.input(i), role)
        if _count(t.shape) != c:
            raise NodeIssue("BAD_SHAPE", f"{onode.label}: {role} has shape {list(t.shape)}, "
                            f"expected [{c}]")
        weights[f"{n.name}.{role}"] = t.map(lambda a: a.reshape(-1), (c,))
    if not training:
        return Out([bind_inputs(n, bound)], weights)
    outs = [make_ref(n.name, i) if i == 0 or (o and ctx.used(o)) else None
            for i, o in enumerate(onode.outputs[:3])]
    return Out([bind_inputs(n, bound)], weights, outs)


def _count(shape) -> int:
    k = 1
    for d in shape:
        k *= int(d)
    return k
