"""Pool (max / avg, 1-D to 3-D, global) -> Keras pooling layers.

Keras' own padding rules where they are the IR's: no pads ("valid"), or TensorFlow's "same"
pads (a max ignores them; an average counts only real positions, count_include_pad=False).
Otherwise explicit padding: -inf for a max (never wins), zeros for an average that counts
them; ceil_mode windows that reach past the padded input get that much more padding. An
average whose divisor a plain layer cannot give (ceil_mode overhang, or padding that must not
count) uses ``average_pool_exact``, which divides by the counted positions."""

from nnrosetta.ir.ops._spatial import pool_window_issues
from nnrosetta.ir.ops.pool import window_out
from nnrosetta_backend_tf.codegen import Code
from nnrosetta_backend_tf.emitters import emitter
from nnrosetta_backend_tf.emitters._common import (
    cl_input,
    is_same,
    one_or_tuple,
    spatial_geometry,
    zero_padding,
)


def spatial_count(c) -> int | None:
    k = c.attr("kernel_shape") or []
    if k and not c.attr("global_pooling", False):
        return len(k)
    shape = c.in_shape()
    return None if shape is None else len(shape) - 2


def check(c) -> list[str]:
    out = pool_window_issues(c, spatial_count(c))
    if out or c.attr("global_pooling", False):
        return out
    if any(int(v) != 1 for v in c.attr("dilations") or []):
        out.append("dilated pooling: Keras pooling layers have no dilation")
    if c.in_shape() is None:
        out.append("the input shape is unknown (needed for the padding)")
    return out


def overhang(shape, k, s, begin, end, ceil) -> list[int]:
    """How far the last ceil_mode window reaches past the padded input, per axis."""
    out = []
    for a in range(len(k)):
        size = int(shape[2 + a])
        n = window_out(size, k[a], s[a], begin[a], end[a], ceil)
        out.append(max(0, (n - 1) * s[a] + k[a] - (size + begin[a] + end[a])))
    return out


@emitter("Pool", check=check)
def emit(e) -> None:
    """Pool -> ``layers.Max/AveragePoolingND``, ``GlobalMax/AveragePoolingND``; exact pads and
    ceil_mode."""
    mode = e.attr("mode", "max")
    kind = "Max" if mode == "max" else "Average"
    n = spatial_count(e)
    x, lay = cl_input(e)
    if e.attr("global_pooling", False):
        e.assign(f"{e.layer(f'layers.Global{kind}Pooling{n}D', keepdims=True)}({x})", lay)
        return
    n, k, s, _, begin, end = spatial_geometry(e, n)
    shape = e.in_shape()
    ceil = bool(e.attr("ceil_mode", False))
    include = bool(e.attr("count_include_pad", True))
    beyond = overhang(shape, k, s, begin, end, ceil)
    kwargs = {"strides": one_or_tuple(s)}
    reach = [end[a] + beyond[a] for a in range(n)]
    # "same" pads are never counted: right for a max, for an average that does not count
    # padding, and for the ceil_mode overhang (which the IR does not count either)
    uncounted = mode == "max" or not include or not (any(begin) or any(end))
    if not any(begin) and not any(reach) or (
            uncounted and is_same(shape[2:], k, s, [1] * n, begin, reach)):
        if any(begin) or any(reach):
            kwargs["padding"] = "same"
        layer = e.layer(f"layers.{kind}Pooling{n}D", one_or_tuple(k), **kwargs)
        e.assign(f"{layer}({x})", lay)
        return
    if mode == "max":
        e.comment("pads (and the ceil_mode overhang) are -inf: they never win the max")
        spec = [[0, 0]] + [[begin[a], end[a] + beyond[a]] for a in range(n)] + [[0, 0]]
        x = e.temp(e.op("pad", Code(x), spec, constant_values=float("-inf")), "pad")
    elif include and not any(beyond):
        x = zero_padding(e, x, begin, end)   # the padding counts in the average
    else:
        fn = e.helper("average_pool_exact")
        pads = [(begin[a], end[a]) for a in range(n)]
        e.assign(f"{fn}({x}, {k}, {s}, {pads}, {beyond}, count_pad={include})", lay)
        return
    layer = e.layer(f"layers.{kind}Pooling{n}D", one_or_tuple(k), **kwargs)
    e.assign(f"{layer}({x})", lay)
