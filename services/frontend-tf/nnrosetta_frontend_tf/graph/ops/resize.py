"""ResizeBilinear / ResizeNearestNeighbor / ResizeBicubic (tf.image.resize, Keras
UpSampling2D and Resizing) -> IR Resize over the spatial axes."""

from nnrosetta_frontend_tf.graph.layout import channels_first, ir_axis
from nnrosetta_frontend_tf.graph.ops._base import NodeIssue, ints, tf_op

_MODES = {"ResizeBilinear": "linear", "ResizeNearestNeighbor": "nearest",
          "ResizeBicubic": "cubic"}


@tf_op(*_MODES, ir_ops=["Resize"])
def resize(node, ctx):
    """ResizeBilinear(images NHWC, size [h, w], align_corners, half_pixel_centers)."""
    x = ctx.act(node.input(0))
    if x.rank != 4:
        raise NodeIssue("BAD_SHAPE", f"{node.label}: input of rank {x.rank}")
    x = ctx.layout(x, x.perm if x.perm is not None else channels_first(4))
    size = ints(ctx.const(node.input(1), "size"))
    mode = _MODES[node.op]
    align = bool(node.attr("align_corners", False))
    half = bool(node.attr("half_pixel_centers", False))
    attrs = {"mode": mode, "sizes": size, "axes": [ir_axis(1, x.perm, 4), ir_axis(2, x.perm, 4)]}
    if mode == "nearest":
        if align:
            attrs.update(coordinate_transformation_mode="align_corners",
                         nearest_mode="round_prefer_ceil")
        elif half:
            attrs.update(coordinate_transformation_mode="tf_half_pixel_for_nn",
                         nearest_mode="floor")
        else:
            attrs.update(coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    else:
        attrs["coordinate_transformation_mode"] = "align_corners" if align else \
            "half_pixel" if half else "asymmetric"
        if mode == "cubic":
            ctx.note("ResizeBicubic: TensorFlow interpolates with a 1024-entry table of cubic "
                     "coefficients, the IR exactly; expect differences near 1e-3")
            attrs["cubic_coeff_a"] = -0.5 if half else -0.75
            attrs["exclude_outside"] = half
    return [ctx.emit("Resize", [x.ref], attrs, perm=x.perm, source=True)]
