import numpy as np

from nnrosetta_backend_onnx.emitters import emitter


def check(c) -> list[str]:
    r = c.in_rank()
    if r is None:
        return ["the input rank is unknown (needed for the statistics' axes)"]
    if r < 2:
        return [f"input rank {r}: BatchNormTraining needs N, C, ..."]
    return []


def _affine(e, role: str, n: int, fill: float) -> str:
    if e.has_weight(role):
        return e.weight(role, [-1])
    return e.const(np.full(n, fill, np.float32), hint=role)


def _composed(e, ins: list[str], outs: list[str], eps: float, onnx_momentum: float) -> None:
    """Batch mean and biased variance from ReduceMean (axes an input from opset 18), Y from
    an inference BatchNormalization with them, running statistics from Mul / Add."""
    axes = [0, *range(2, e.in_rank())]

    def mean(v: str) -> str:
        if e.opset >= 18:
            return e.node("ReduceMean", [v, e.ints(axes, "axes")], {"keepdims": 1})
        return e.node("ReduceMean", [v], {"axes": axes, "keepdims": 1})

    flat = e.ints([-1], "flat")
    m_k = mean(e.x)
    d = e.node("Sub", [e.x, m_k])
    v_k = mean(e.node("Mul", [d, d]))
    bm = e.node("Reshape", [m_k, flat])
    bv = e.node("Reshape", [v_k, flat])
    e.node("BatchNormalization", [e.x, ins[1], ins[2], bm, bv], {"epsilon": eps},
           outputs=[outs[0]])
    keep = e.const(np.float32(onnx_momentum), hint="momentum")
    take = e.const(np.float32(1.0 - onnx_momentum), hint="one_minus_momentum")
    for i, old, batch in ((1, ins[3], bm), (2, ins[4], bv)):
        if outs[i]:
            e.node("Add", [e.node("Mul", [old, keep]), e.node("Mul", [batch, take])],
                   outputs=[outs[i]])


@emitter("BatchNormTraining", check=check)
def emit(e) -> None:
    """BatchNormalization with training_mode=1 (opset 14: outputs Y, running_mean,
    running_var); composed below 14. Absent scale/bias become ones/zeros; ONNX's momentum is
    the weight of the old running value (1 - the IR's PyTorch-style momentum)."""
    n = int(np.prod(e.weight_shape("mean")))
    ins = [e.x, _affine(e, "scale", n, 1.0), _affine(e, "bias", n, 0.0),
           e.weight("mean", [-1]), e.weight("var", [-1])]
    eps = float(e.attr("epsilon", 1e-5))
    onnx_momentum = 1.0 - float(e.attr("momentum", 0.1))
    if e.opset >= 14:   # training mode needs all three outputs named (unread: temporaries)
        outs = [e.out] + [o if e.used(i) else e.tmp(f"unread{i}")
                          for i, o in enumerate(e.outs) if i]
        e.node("BatchNormalization", ins, {"epsilon": eps, "momentum": onnx_momentum,
                                           "training_mode": 1}, outputs=outs)
        return
    outs = [e.out] + [o if e.used(i) else "" for i, o in enumerate(e.outs) if i]
    _composed(e, ins, outs, eps, onnx_momentum)
