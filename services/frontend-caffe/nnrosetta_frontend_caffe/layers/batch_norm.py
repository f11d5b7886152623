import numpy as np

from nnrosetta_frontend_caffe.layers._base import Layer, Out, converter, node, one_bottom


@converter("BatchNorm")
def convert(layer: Layer, ctx) -> Out:
    """Caffe keeps sums: mean and var are divided by the third blob (a factor; 0 -> 0).
    A following Scale layer is fused in afterwards (convert.fuse_batchnorm_scale)."""
    p = layer.param.batch_norm_param
    bottom = one_bottom(layer)
    s = ctx.shape(bottom)
    c = None if s is None else int(s[1])
    mean = ctx.blob(layer, 0, (c,), "mean")
    var = ctx.blob(layer, 1, (mean.shape[0],), "variance")
    factor = ctx.blob(layer, 2, (1,), "moving-average factor")
    fload = factor.load

    def scaled(a: np.ndarray) -> np.ndarray:
        f = float(np.asarray(fload()).reshape(-1)[0])
        return (a * (0.0 if f == 0 else 1.0 / f)).astype(np.float32)

    n = node(layer, "BatchNorm", [ctx.ref(bottom)], epsilon=float(f"{p.eps:.7g}"),
             momentum=float(f"{1.0 - float(f'{p.moving_average_fraction:.7g}'):.7g}"))
    return Out([n], {f"{n.name}.mean": mean.map(scaled), f"{n.name}.var": var.map(scaled)})
