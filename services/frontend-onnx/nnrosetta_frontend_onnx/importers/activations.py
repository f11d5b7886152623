"""Activations with an IR op of their own: Relu, LeakyRelu, PRelu, Elu, Sigmoid, Tanh, Selu,
HardSigmoid, Celu, ThresholdedRelu, Gelu, Shrink, Softplus, Softsign, Mish, HardSwish."""

import numpy as np

from nnrosetta_frontend_onnx.importers._base import (
    NodeIssue,
    Out,
    Unsupported,
    bind_inputs,
    importer,
    node,
)


def _simple(ir_op: str, **attr_map):
    """An importer for an op whose ONNX attributes map 1:1 onto the IR's."""

    def fn(onode, ctx) -> Out:
        attrs = {}
        for onnx_name, (ir_name, cast, default) in attr_map.items():
            v = onode.attr(onnx_name, default)
            if v is not None:
                attrs[ir_name] = cast(v)
        return Out([node(onode, ir_op, [ctx.ref(onode.input(0))], **attrs)])

    fn.__name__ = f"import_{ir_op.lower()}"
    return fn


for _t in ("Relu", "Sigmoid", "Tanh", "Softplus", "Softsign"):
    importer(_t, since=1, ir_ops=[_t])(_simple(_t))
importer("Mish", since=18, ir_ops=["Mish"])(_simple("Mish"))
importer("HardSwish", since=14, ir_ops=["HardSwish"])(_simple("HardSwish"))
importer("LeakyRelu", since=1, ir_ops=["LeakyRelu"])(
    _simple("LeakyRelu", alpha=("alpha", float, 0.01)))
importer("Elu", since=1, ir_ops=["Elu"])(_simple("Elu", alpha=("alpha", float, 1.0)))
importer("Selu", since=1, ir_ops=["Selu"])(
    _simple("Selu", alpha=("alpha", float, None), gamma=("gamma", float, None)))
importer("HardSigmoid", since=1, ir_ops=["HardSigmoid"])(
    _simple("HardSigmoid", alpha=("alpha", float, 0.2), beta=("beta", float, 0.5)))
importer("Celu", since=12, ir_ops=["Celu"])(_simple("Celu", alpha=("alpha", float, 1.0)))
importer("ThresholdedRelu", since=10, ir_ops=["ThresholdedRelu"])(
    _simple("ThresholdedRelu", alpha=("alpha", float, 1.0)))
importer("Gelu", since=20, ir_ops=["Gelu"])(
    _simple("Gelu", approximate=("approximate", str, "none")))
importer("Shrink", since=9, ir_ops=["Shrink"])(
    _simple("Shrink", bias=("bias", float, 0.0), lambd=("lambd", float, 0.5)))


@importer("PRelu", since=1, ir_ops=["PRelu"])
def prelu(onode, ctx) -> Out:
    x = ctx.need_shape(onode, onode.input(0))
    if not ctx.is_const(onode.input(1)):
        return _dynamic_prelu(onode, ctx, x)
    slope = ctx.tensor(onode.input(1), "slope")
    c = x[1] if len(x) > 1 else 1
    s = tuple(slope.shape)
    n = int(np.prod(s)) if s else 1
    # slopes broadcast from the right: per channel means [C, 1, ..., 1] aligned on axis 1
    stripped = list(s)
    while stripped and stripped[0] == 1 and len(stripped) > len(x) - 1:
        stripped.pop(0)
    per_channel = len(x) >= 2 and tuple(stripped) == (c,) + (1,) * (len(x) - 2)
    if n == 1:
        shape = (1,)
    elif per_channel:
        shape = (c,)
    else:
        raise Unsupported(f"{onode.label}: slope of shape {list(s)} for input {list(x)}; the "
                          "IR PRelu takes one slope per channel or one for all")
    if len(x) < 1:
        raise NodeIssue("BAD_SHAPE", f"{onode.label}: scalar input")
    nd = node(onode, "PRelu", [ctx.ref(onode.input(0))])
    return Out([nd], {f"{nd.name}.slope": slope.map(
        lambda a: np.asarray(a, dtype=np.float32).reshape(-1), shape, "float32")})


def _dynamic_prelu(onode, ctx, x) -> Out:
    """A slope computed at run time, bound to the IR PRelu's input. ONNX broadcasts it from
    the right; a rank-1 IR slope means one per channel, so a lower-rank slope is reshaped to
    the input's rank first (unless it is shared, or the input is (N, C))."""
    s = tuple(ctx.need_shape(onode, onode.input(1)))
    if len(s) > len(x) or np.broadcast_shapes(s, tuple(x)) != tuple(x):
        raise NodeIssue("BAD_SHAPE", f"{onode.label}: slope of shape {list(s)} does not "
                        f"broadcast to the input {list(x)}")
    ref = ctx.ref(onode.input(1))
    nodes = []
    size = int(np.prod(s)) if s else 1
    if len(s) < 2 and not (size == 1 and len(s) == 1) and not (len(s) == 1 and len(x) == 2):
        full = [1] * (len(x) - len(s)) + list(s)
        if len(full) < 2:
            full = [1] * (2 - len(full)) + full
        nodes.append(node(onode, "Reshape", [ref], suffix="slope", shape=full))
        ref = nodes[-1].name
    nodes.append(bind_inputs(node(onode, "PRelu", [ctx.ref(onode.input(0))]), {"slope": ref}))
    return Out(nodes)
