"""Ops that give constants: Shape and Size of statically shaped tensors, Constant; Cast of a
computed tensor to float32 or bool (the IR's compute types). Subgraphs of constants are folded
before importers are asked (convert.fold)."""

import numpy as np
from onnx import TensorProto, numpy_helper

from nnrosetta_frontend_onnx.importers._base import Out, Unsupported, importer, node

FLOATS = {TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16}


@importer("Shape", since=1, ir_ops=[])
def shape(onode, ctx) -> Out:
    s = list(ctx.need_shape(onode, onode.input(0)))
    start = onode.attr("start", 0)
    end = onode.attr("end")
    s = s[int(start):] if end is None else s[int(start):int(end)]
    return Out([], outputs=[np.asarray(s, dtype=np.int64)])


@importer("Size", since=1, ir_ops=[])
def size(onode, ctx) -> Out:
    s = ctx.need_shape(onode, onode.input(0))
    return Out([], outputs=[np.asarray(int(np.prod(s)), dtype=np.int64)])


@importer("Constant", since=1, ir_ops=[])
def constant(onode, ctx) -> Out:
    a = onode.attrs
    if "value" in a:
        v = numpy_helper.to_array(a["value"])
    elif "value_float" in a:
        v = np.asarray(a["value_float"], dtype=np.float32)
    elif "value_floats" in a:
        v = np.asarray(a["value_floats"], dtype=np.float32)
    elif "value_int" in a:
        v = np.asarray(a["value_int"], dtype=np.int64)
    elif "value_ints" in a:
        v = np.asarray(a["value_ints"], dtype=np.int64)
    else:
        raise Unsupported(f"{onode.label}: attributes {sorted(a)}")
    return Out([], outputs=[v])


def _cast(onode, ctx, to: int) -> Out:
    """A computed tensor is float32 or bool (comparisons, logic): an IR Cast to float32 or
    bool keeps bool results usable in arithmetic (a no-op on float32)."""
    if to in FLOATS:
        target = "float32"
    elif to == TensorProto.BOOL:
        target = "bool"
    else:
        raise Unsupported(f"{onode.label}: a computed tensor cast to "
                          f"{TensorProto.DataType.Name(to)}; the IR computes in float32 and bool")
    return Out([node(onode, "Cast", [ctx.ref(onode.input(0), "any")], to=target)])


@importer("Cast", since=6, ir_ops=["Cast"])
def cast(onode, ctx) -> Out:
    return _cast(onode, ctx, int(onode.attr("to")))


@importer("CastLike", since=15, ir_ops=["Identity"])
def cast_like(onode, ctx) -> Out:
    like = onode.input(1)
    if ctx.is_const(like):
        dt = np.dtype(ctx.tensor(like).dtype)
        return _cast(onode, ctx, TensorProto.FLOAT if dt.kind == "f" else TensorProto.INT64)
    return Out([node(onode, "Identity", [ctx.ref(onode.input(0))])])
