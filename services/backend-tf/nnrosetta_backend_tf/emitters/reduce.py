"""Reductions (ReduceMean, ReduceMax, ...) -> keras.ops over the Keras axes that hold the IR
axes; without keepdims the remaining axes keep their layout."""

from nnrosetta_backend_tf.codegen import Code
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.layout import channels_last, drop_axes, identity

OPS = {"ReduceMean": "mean", "ReduceMax": "max", "ReduceMin": "min", "ReduceSum": "sum",
       "ReduceProd": "prod", "ReduceLogSumExp": "logsumexp"}
COMPOSED = {"ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum"}
GLOBAL_POOL = {"ReduceMean": "GlobalAveragePooling", "ReduceMax": "GlobalMaxPooling"}


def _describe(op: str) -> str:
    if op in GLOBAL_POOL:
        return (f"``layers.{GLOBAL_POOL[op]}2D`` over all spatial axes (channels-last), else "
                f"``ops.{OPS[op]}`` over the Keras axes of the IR axes")
    if op in OPS:
        return f"``ops.{OPS[op]}`` over the Keras axes of the IR axes"
    return {"ReduceL1": "``ops.sum(ops.abs(x))``",
            "ReduceL2": "``ops.sqrt(ops.sum(ops.square(x)))``",
            "ReduceSumSquare": "``ops.sum(ops.square(x))``",
            "ReduceLogSum": "``ops.log(ops.sum(x))``"}[op]


@emitter(*OPS, *COMPOSED, describe=_describe)
def emit(e) -> None:
    """ReduceMean, ReduceMax, ... -> ``ops.mean``, ``ops.max``, ... over the Keras axes of the IR
    axes."""
    rank = e.rank()
    axes = [int(a) % rank for a in e.attr("axes", []) or []]
    if not axes and e.attr("noop_with_empty_axes", False):
        e.alias(e.x, e.layout())
        return
    axes = axes or list(range(rank))
    lay = e.layout()
    if not lay.plain:
        lay = identity(rank)
    x = e.arg(0, lay)
    keep = bool(e.attr("keepdims", True))
    pool = GLOBAL_POOL.get(e.op_type)
    if pool and 3 <= rank <= 5 and lay == channels_last(rank) and \
            sorted(axes) == list(range(2, rank)):
        # a mean / max over every spatial axis of a channels-last value: global pooling
        layer = e.layer(f"layers.{pool}{rank - 2}D", **({"keepdims": True} if keep else {}))
        e.assign(f"{layer}({x})", lay if keep else identity(2))
        return
    kaxes = tuple(sorted(lay.keras_axis(a) for a in axes))
    kw = {"axis": kaxes[0] if len(kaxes) == 1 else kaxes, "keepdims": keep}
    out = lay if keep else drop_axes(lay, axes)
    x_code = Code(x)
    if e.op_type in OPS:
        e.assign(e.op(OPS[e.op_type], x_code, **kw), out)
    elif e.op_type == "ReduceL1":
        e.assign(e.op("sum", Code(f"ops.abs({x})"), **kw), out)
    elif e.op_type == "ReduceL2":
        e.assign(e.op("sqrt", Code(e.op("sum", Code(f"ops.square({x})"), **kw))), out)
    elif e.op_type == "ReduceSumSquare":
        e.assign(e.op("sum", Code(f"ops.square({x})"), **kw), out)
    else:   # ReduceLogSum
        e.assign(e.op("log", Code(e.op("sum", x_code, **kw))), out)
