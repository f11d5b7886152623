"""Prototxt generators for the Caffe test model zoo.

Every public zoo function (``lenet()``, ``alexnet()``, ...) returns prototxt text. The text is
produced by a small builder (:class:`Net`) that appends layer blocks and infers blob shapes the
way Caffe does, so :mod:`tests.zoo.weights` can write a ``.caffemodel`` with parameter blobs of
the right shapes: ``spec(name)`` returns that :class:`Net`.

The classic nets keep their BVLC / model-zoo layer names and structure and end with the
pre-softmax layer followed by a ``Softmax`` named ``prob``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

# --------------------------------------------------------------------------------------------
# Builder
# --------------------------------------------------------------------------------------------


class E(str):
    """An enum value in prototxt (rendered bare, e.g. ``pool: MAX``)."""


@dataclass
class BlobSpec:
    """One parameter blob of a layer and how weights.py fills it.

    kind: "he" (N(0, sqrt(gain / fan_in))), "bias", "bn_mean", "bn_var", "bn_factor", "gamma",
    "beta", "prelu".
    """

    kind: str
    shape: tuple[int, ...]
    fan_in: int = 1
    gain: float = 2.0
    factor: float = 1.0


@dataclass
class Layer:
    name: str
    type: str
    bottoms: list[str]
    tops: list[str]
    params: dict = field(default_factory=dict)
    blobs: list[BlobSpec] = field(default_factory=list)


# Caffe V1LayerParameter.LayerType names for the legacy ``layers { type: CONVOLUTION }`` form.
V1_TYPES = {
    "AbsVal": "ABSVAL",
    "Concat": "CONCAT",
    "Convolution": "CONVOLUTION",
    "Deconvolution": "DECONVOLUTION",
    "Dropout": "DROPOUT",
    "Eltwise": "ELTWISE",
    "Flatten": "FLATTEN",
    "InnerProduct": "INNER_PRODUCT",
    "LRN": "LRN",
    "Pooling": "POOLING",
    "Power": "POWER",
    "ReLU": "RELU",
    "Sigmoid": "SIGMOID",
    "Slice": "SLICE",
    "Softmax": "SOFTMAX",
    "Split": "SPLIT",
    "TanH": "TANH",
}


def _pair(v: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(v, int):
        return v, v
    h, w = v
    return int(h), int(w)


def _fmt_scalar(v) -> str:
    if isinstance(v, E):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"cannot render {v!r}")


def _render_fields(fields: dict, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    for key, value in fields.items():
        values = value if isinstance(value, list) else [value]
        for v in values:
            if isinstance(v, dict):
                out.append(f"{pad}{key} {{")
                _render_fields(v, indent + 1, out)
                out.append(f"{pad}}}")
            else:
                out.append(f"{pad}{key}: {_fmt_scalar(v)}")


def _spatial(shape: tuple[int, ...], what: str) -> tuple[int, int, int, int]:
    if len(shape) != 4:
        raise ValueError(f"{what}: expected a 4-D input, got {shape}")
    n, c, h, w = shape
    return n, c, h, w


class Net:
    """Appends Caffe layers, tracks top shapes, renders prototxt.

    input_style: "layer" (an ``Input`` layer), "input_dim" (net-level ``input``/``input_dim``)
    or "input_shape" (net-level ``input``/``input_shape``). v1: render the legacy
    ``layers { type: ENUM }`` form. lr_params: add the classic ``param { lr_mult decay_mult }``
    blocks (``blobs_lr``/``weight_decay`` in the V1 form) to layers with weights.
    """

    def __init__(
        self,
        name: str,
        *,
        input_style: str = "layer",
        v1: bool = False,
        lr_params: bool = False,
    ):
        if input_style not in ("layer", "input_dim", "input_shape"):
            raise ValueError(input_style)
        if v1 and input_style == "layer":
            raise ValueError("the V1 form declares inputs at net level")
        self.name = name
        self.input_style = input_style
        self.v1 = v1
        self.lr_params = lr_params
        self.inputs: dict[str, tuple[int, ...]] = {}
        self.layers: list[Layer] = []
        self.shapes: dict[str, tuple[int, ...]] = {}

    # ---- plumbing ----

    def shape(self, top: str) -> tuple[int, ...]:
        return self.shapes[top]

    def _add(
        self,
        type_: str,
        name: str,
        bottoms: Sequence[str],
        tops: Sequence[str],
        out_shapes: Sequence[tuple[int, ...]],
        params: dict | None = None,
        blobs: Sequence[BlobSpec] = (),
    ) -> str:
        if any(layer.name == name for layer in self.layers):
            raise ValueError(f"duplicate layer name {name!r}")
        for b in bottoms:
            if b not in self.shapes:
                raise KeyError(f"{name}: unknown bottom {b!r}")
        params = dict(params or {})
        if self.lr_params and blobs and not self.v1:
            lr = [{"lr_mult": 1, "decay_mult": 1}, {"lr_mult": 2, "decay_mult": 0}]
            params = {"param": lr[: len(blobs)], **params}
        self.layers.append(Layer(name, type_, list(bottoms), list(tops), params, list(blobs)))
        for t, s in zip(tops, out_shapes, strict=True):
            self.shapes[t] = tuple(int(d) for d in s)
        return tops[0] if tops else name

    def input(self, name: str, shape: Sequence[int]) -> str:
        shape = tuple(int(d) for d in shape)
        if self.input_style == "layer":
            params = {"input_param": {"shape": {"dim": list(shape)}}}
            return self._add("Input", name, [], [name], [shape], params)
        self.inputs[name] = shape
        self.shapes[name] = shape
        return name

    # ---- layers with weights ----

    def conv(
        self,
        name: str,
        bottom: str,
        num_output: int,
        kernel: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        pad: int | Sequence[int] = 0,
        group: int = 1,
        bias: bool = True,
        dilation: int = 1,
        top: str | None = None,
        gain: float = 2.0,
    ) -> str:
        n, c, h, w = _spatial(self.shape(bottom), name)
        kh, kw = _pair(kernel)
        sh, sw = _pair(stride)
        ph, pw = _pair(pad)
        if c % group or num_output % group:
            raise ValueError(f"{name}: channels {c}/{num_output} not divisible by group {group}")
        oh = (h + 2 * ph - (dilation * (kh - 1) + 1)) // sh + 1
        ow = (w + 2 * pw - (dilation * (kw - 1) + 1)) // sw + 1
        p = self._conv_param(num_output, bias, kh, kw, sh, sw, ph, pw, group, dilation)
        fan_in = (c // group) * kh * kw
        blobs = [BlobSpec("he", (num_output, c // group, kh, kw), fan_in=fan_in, gain=gain)]
        if bias:
            blobs.append(BlobSpec("bias", (num_output,)))
        top = top or name
        return self._add("Convolution", name, [bottom], [top], [(n, num_output, oh, ow)],
                         {"convolution_param": p}, blobs)

    def deconv(
        self,
        name: str,
        bottom: str,
        num_output: int,
        kernel: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        pad: int | Sequence[int] = 0,
        group: int = 1,
        bias: bool = True,
        top: str | None = None,
    ) -> str:
        n, c, h, w = _spatial(self.shape(bottom), name)
        kh, kw = _pair(kernel)
        sh, sw = _pair(stride)
        ph, pw = _pair(pad)
        if c % group or num_output % group:
            raise ValueError(f"{name}: channels not divisible by group {group}")
        oh = sh * (h - 1) + kh - 2 * ph
        ow = sw * (w - 1) + kw - 2 * pw
        p = self._conv_param(num_output, bias, kh, kw, sh, sw, ph, pw, group, 1)
        # Each output pixel sees about (c/g) * kh*kw / (sh*sw) inputs.
        fan_in = max(1, (c // group) * kh * kw // (sh * sw))
        blobs = [BlobSpec("he", (c, num_output // group, kh, kw), fan_in=fan_in)]
        if bias:
            blobs.append(BlobSpec("bias", (num_output,)))
        top = top or name
        return self._add("Deconvolution", name, [bottom], [top], [(n, num_output, oh, ow)],
                         {"convolution_param": p}, blobs)

    @staticmethod
    def _conv_param(num_output, bias, kh, kw, sh, sw, ph, pw, group, dilation) -> dict:
        p: dict = {"num_output": num_output}
        if not bias:
            p["bias_term"] = False
        if ph == pw:
            if ph:
                p["pad"] = ph
        else:
            p["pad_h"], p["pad_w"] = ph, pw
        if kh == kw:
            p["kernel_size"] = kh
        else:
            p["kernel_h"], p["kernel_w"] = kh, kw
        if group != 1:
            p["group"] = group
        if sh == sw:
            if sh != 1:
                p["stride"] = sh
        else:
            p["stride_h"], p["stride_w"] = sh, sw
        if dilation != 1:
            p["dilation"] = dilation
        return p

    def fc(
        self,
        name: str,
        bottom: str,
        num_output: int,
        bias: bool = True,
        axis: int = 1,
        top: str | None = None,
        gain: float = 2.0,
    ) -> str:
        shape = self.shape(bottom)
        fan_in = math.prod(shape[axis:])
        p: dict = {"num_output": num_output}
        if not bias:
            p["bias_term"] = False
        if axis != 1:
            p["axis"] = axis
        blobs = [BlobSpec("he", (num_output, fan_in), fan_in=fan_in, gain=gain)]
        if bias:
            blobs.append(BlobSpec("bias", (num_output,)))
        top = top or name
        return self._add("InnerProduct", name, [bottom], [top], [shape[:axis] + (num_output,)],
                         {"inner_product_param": p}, blobs)

    def batchnorm(
        self,
        name: str,
        bottom: str,
        top: str | None = None,
        eps: float | None = None,
        factor: float = 1.0,
    ) -> str:
        shape = self.shape(bottom)
        c = shape[1]
        p: dict = {"use_global_stats": True}
        if eps is not None:
            p["eps"] = eps
        blobs = [
            BlobSpec("bn_mean", (c,), factor=factor),
            BlobSpec("bn_var", (c,), factor=factor),
            BlobSpec("bn_factor", (1,), factor=factor),
        ]
        top = top or bottom
        return self._add("BatchNorm", name, [bottom], [top], [shape],
                         {"batch_norm_param": p}, blobs)

    def scale(self, name: str, bottom: str, bias: bool = True, top: str | None = None) -> str:
        shape = self.shape(bottom)
        c = shape[1]
        blobs = [BlobSpec("gamma", (c,))]
        params = {}
        if bias:
            blobs.append(BlobSpec("beta", (c,)))
            params = {"scale_param": {"bias_term": True}}
        top = top or bottom
        return self._add("Scale", name, [bottom], [top], [shape], params, blobs)

    def prelu(self, name: str, bottom: str, channel_shared: bool = False,
              top: str | None = None) -> str:
        shape = self.shape(bottom)
        # Caffe gives a channel-shared slope a 0-axis blob (one value).
        blobs = [BlobSpec("prelu", () if channel_shared else (shape[1],))]
        params = {"prelu_param": {"channel_shared": True}} if channel_shared else {}
        top = top or bottom
        return self._add("PReLU", name, [bottom], [top], [shape], params, blobs)

    # ---- layers without weights ----

    def _unary(self, type_: str, name: str, bottom: str, top: str | None, params=None) -> str:
        top = top or bottom
        return self._add(type_, name, [bottom], [top], [self.shape(bottom)], params)

    def relu(self, name: str, bottom: str, top: str | None = None,
             negative_slope: float | None = None) -> str:
        params = {"relu_param": {"negative_slope": negative_slope}} if negative_slope else None
        return self._unary("ReLU", name, bottom, top, params)

    def sigmoid(self, name: str, bottom: str, top: str | None = None) -> str:
        return self._unary("Sigmoid", name, bottom, top)

    def tanh(self, name: str, bottom: str, top: str | None = None) -> str:
        return self._unary("TanH", name, bottom, top)

    def absval(self, name: str, bottom: str, top: str | None = None) -> str:
        return self._unary("AbsVal", name, bottom, top)

    def elu(self, name: str, bottom: str, alpha: float = 1.0, top: str | None = None) -> str:
        params = {"elu_param": {"alpha": alpha}} if alpha != 1.0 else None
        return self._unary("ELU", name, bottom, top, params)

    def power(self, name: str, bottom: str, power: float = 1.0, scale: float = 1.0,
              shift: float = 0.0, top: str | None = None) -> str:
        params = {"power_param": {"power": power, "scale": scale, "shift": shift}}
        return self._unary("Power", name, bottom, top, params)

    def dropout(self, name: str, bottom: str, ratio: float = 0.5, top: str | None = None) -> str:
        params = {"dropout_param": {"dropout_ratio": ratio}}
        return self._unary("Dropout", name, bottom, top, params)

    def lrn(self, name: str, bottom: str, local_size: int = 5, alpha: float = 1e-4,
            beta: float = 0.75, k: float | None = None, within: bool = False,
            top: str | None = None) -> str:
        p: dict = {"local_size": local_size, "alpha": alpha, "beta": beta}
        if within:
            p["norm_region"] = E("WITHIN_CHANNEL")
        if k is not None:
            p["k"] = k
        return self._unary("LRN", name, bottom, top or name, {"lrn_param": p})

    def softmax(self, name: str, bottom: str, top: str | None = None) -> str:
        return self._add("Softmax", name, [bottom], [top or name], [self.shape(bottom)])

    def pool(
        self,
        name: str,
        bottom: str,
        mode: str = "MAX",
        kernel: int | Sequence[int] = 2,
        stride: int | Sequence[int] = 1,
        pad: int | Sequence[int] = 0,
        global_pooling: bool = False,
        top: str | None = None,
    ) -> str:
        n, c, h, w = _spatial(self.shape(bottom), name)
        p: dict = {"pool": E(mode)}
        if global_pooling:
            p["global_pooling"] = True
            out = (n, c, 1, 1)
        else:
            kh, kw = _pair(kernel)
            sh, sw = _pair(stride)
            ph, pw = _pair(pad)
            if kh == kw:
                p["kernel_size"] = kh
            else:
                p["kernel_h"], p["kernel_w"] = kh, kw
            if sh == sw:
                if sh != 1:
                    p["stride"] = sh
            else:
                p["stride_h"], p["stride_w"] = sh, sw
            if ph == pw:
                if ph:
                    p["pad"] = ph
            else:
                p["pad_h"], p["pad_w"] = ph, pw
            out = (n, c, _pool_out(h, kh, sh, ph), _pool_out(w, kw, sw, pw))
        return self._add("Pooling", name, [bottom], [top or name], [out], {"pooling_param": p})

    def concat(self, name: str, bottoms: Sequence[str], axis: int = 1,
               top: str | None = None) -> str:
        shapes = [self.shape(b) for b in bottoms]
        out = list(shapes[0])
        out[axis] = sum(s[axis] for s in shapes)
        params = {"concat_param": {"axis": axis}} if axis != 1 else None
        return self._add("Concat", name, bottoms, [top or name], [tuple(out)], params)

    def eltwise(self, name: str, bottoms: Sequence[str], operation: str | None = None,
                coeff: Sequence[float] | None = None, top: str | None = None) -> str:
        shapes = {self.shape(b) for b in bottoms}
        if len(shapes) != 1:
            raise ValueError(f"{name}: Eltwise inputs differ in shape: {shapes}")
        p: dict = {}
        if operation is not None:
            p["operation"] = E(operation)
        if coeff is not None:
            p["coeff"] = [float(x) for x in coeff]
        params = {"eltwise_param": p} if p else None
        return self._add("Eltwise", name, bottoms, [top or name], [shapes.pop()], params)

    def slice(self, name: str, bottom: str, tops: Sequence[str], axis: int = 1,
              slice_point: Sequence[int] = ()) -> list[str]:
        shape = self.shape(bottom)
        bounds = [0, *slice_point, shape[axis]]
        if len(bounds) - 1 != len(tops):
            raise ValueError(f"{name}: {len(tops)} tops for slice points {slice_point}")
        outs = []
        for a, b in zip(bounds, bounds[1:], strict=False):
            s = list(shape)
            s[axis] = b - a
            outs.append(tuple(s))
        p: dict = {"axis": axis}
        if slice_point:
            p["slice_point"] = list(slice_point)
        self._add("Slice", name, [bottom], tops, outs, {"slice_param": p})
        return list(tops)

    def split(self, name: str, bottom: str, tops: Sequence[str]) -> list[str]:
        shape = self.shape(bottom)
        self._add("Split", name, [bottom], tops, [shape] * len(tops))
        return list(tops)

    def flatten(self, name: str, bottom: str, axis: int = 1, end_axis: int = -1,
                top: str | None = None) -> str:
        shape = self.shape(bottom)
        end = end_axis % len(shape)
        out = shape[:axis] + (math.prod(shape[axis:end + 1]),) + shape[end + 1:]
        p: dict = {}
        if axis != 1:
            p["axis"] = axis
        if end_axis != -1:
            p["end_axis"] = end_axis
        params = {"flatten_param": p} if p else None
        return self._add("Flatten", name, [bottom], [top or name], [out], params)

    def reshape(self, name: str, bottom: str, dims: Sequence[int], top: str | None = None) -> str:
        shape = self.shape(bottom)
        out = [shape[i] if d == 0 else d for i, d in enumerate(dims)]
        if -1 in out:
            known = math.prod(d for d in out if d != -1)
            out[out.index(-1)] = math.prod(shape) // known
        if math.prod(out) != math.prod(shape):
            raise ValueError(f"{name}: cannot reshape {shape} to {dims}")
        params = {"reshape_param": {"shape": {"dim": list(dims)}}}
        return self._add("Reshape", name, [bottom], [top or name], [tuple(out)], params)

    # ---- rendering ----

    def prototxt(self) -> str:
        out = [f'name: "{self.name}"']
        for name, shape in self.inputs.items():
            out.append(f'input: "{name}"')
            if self.input_style == "input_dim":
                out.extend(f"input_dim: {d}" for d in shape)
            else:
                out.append("input_shape {")
                out.extend(f"  dim: {d}" for d in shape)
                out.append("}")
        for layer in self.layers:
            out.append("layers {" if self.v1 else "layer {")
            out.append(f'  name: "{layer.name}"')
            if self.v1:
                out.append(f"  type: {V1_TYPES[layer.type]}")
            else:
                out.append(f'  type: "{layer.type}"')
            out.extend(f'  bottom: "{b}"' for b in layer.bottoms)
            out.extend(f'  top: "{t}"' for t in layer.tops)
            if self.v1 and self.lr_params and layer.blobs:
                lrs = [1.0, 2.0][: len(layer.blobs)]
                decays = [1.0, 0.0][: len(layer.blobs)]
                out.extend(f"  blobs_lr: {v:g}" for v in lrs)
                out.extend(f"  weight_decay: {v:g}" for v in decays)
            _render_fields(layer.params, 1, out)
            out.append("}")
        return "\n".join(out) + "\n"


def _pool_out(size: int, kernel: int, stride: int, pad: int) -> int:
    """Caffe's pooled size: ceil rounding, minus one if the last window starts in the pad."""
    out = -(-(size + 2 * pad - kernel) // stride) + 1
    if pad and (out - 1) * stride >= size + pad:
        out -= 1
    return out


# --------------------------------------------------------------------------------------------
# Zoo
# --------------------------------------------------------------------------------------------

BUILDERS: dict[str, Callable[[], Net]] = {}


def _zoo(fn: Callable[[], Net]) -> Callable[[], str]:
    BUILDERS[fn.__name__] = fn

    def text() -> str:
        return fn().prototxt()

    text.__name__ = fn.__name__
    text.__qualname__ = fn.__qualname__
    text.__doc__ = fn.__doc__
    return text


def spec(name: str) -> Net:
    """The builder object of zoo model ``name`` (layers, blob shapes, prototxt)."""
    return BUILDERS[name]()


@_zoo
def lenet() -> Net:
    """BVLC LeNet (examples/mnist/lenet.prototxt), 1x1x28x28, pre-softmax ip2."""
    n = Net("LeNet")
    n.input("data", (1, 1, 28, 28))
    n.conv("conv1", "data", 20, 5)
    n.pool("pool1", "conv1", "MAX", 2, 2)
    n.conv("conv2", "pool1", 50, 5)
    n.pool("pool2", "conv2", "MAX", 2, 2)
    n.fc("ip1", "pool2", 500)
    n.relu("relu1", "ip1")
    n.fc("ip2", "ip1", 10)
    n.softmax("prob", "ip2")
    return n


@_zoo
def lenet_v1() -> Net:
    """LeNet in the legacy V1 form (``layers { type: CONVOLUTION }``, input_dim)."""
    n = Net("LeNet", input_style="input_dim", v1=True, lr_params=True)
    n.input("data", (1, 1, 28, 28))
    n.conv("conv1", "data", 20, 5)
    n.pool("pool1", "conv1", "MAX", 2, 2)
    n.conv("conv2", "pool1", 50, 5)
    n.pool("pool2", "conv2", "MAX", 2, 2)
    n.fc("ip1", "pool2", 500)
    n.relu("relu1", "ip1")
    n.fc("ip2", "ip1", 10)
    n.softmax("prob", "ip2")
    return n


@_zoo
def alexnet() -> Net:
    """BVLC AlexNet (models/bvlc_alexnet/deploy.prototxt), 1x3x227x227, pre-softmax fc8."""
    n = Net("AlexNet", lr_params=True)
    n.input("data", (1, 3, 227, 227))
    n.conv("conv1", "data", 96, 11, stride=4)
    n.relu("relu1", "conv1")
    n.lrn("norm1", "conv1", 5, 1e-4, 0.75)
    n.pool("pool1", "norm1", "MAX", 3, 2)
    n.conv("conv2", "pool1", 256, 5, pad=2, group=2)
    n.relu("relu2", "conv2")
    n.lrn("norm2", "conv2", 5, 1e-4, 0.75)
    n.pool("pool2", "norm2", "MAX", 3, 2)
    n.conv("conv3", "pool2", 384, 3, pad=1)
    n.relu("relu3", "conv3")
    n.conv("conv4", "conv3", 384, 3, pad=1, group=2)
    n.relu("relu4", "conv4")
    n.conv("conv5", "conv4", 256, 3, pad=1, group=2)
    n.relu("relu5", "conv5")
    n.pool("pool5", "conv5", "MAX", 3, 2)
    n.fc("fc6", "pool5", 4096)
    n.relu("relu6", "fc6")
    n.dropout("drop6", "fc6", 0.5)
    n.fc("fc7", "fc6", 4096)
    n.relu("relu7", "fc7")
    n.dropout("drop7", "fc7", 0.5)
    n.fc("fc8", "fc7", 1000)
    n.softmax("prob", "fc8")
    return n


@_zoo
def vgg16() -> Net:
    """VGG_ILSVRC_16_layers deploy, 1x3x224x224 (net-level input_dim), pre-softmax fc8."""
    n = Net("VGG_ILSVRC_16_layers", input_style="input_dim")
    x = n.input("data", (1, 3, 224, 224))
    stages = [(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]
    for s, (ch, reps) in enumerate(stages, start=1):
        for r in range(1, reps + 1):
            x = n.conv(f"conv{s}_{r}", x, ch, 3, pad=1)
            n.relu(f"relu{s}_{r}", x)
        x = n.pool(f"pool{s}", x, "MAX", 2, 2)
    x = n.fc("fc6", x, 4096)
    n.relu("relu6", x)
    n.dropout("drop6", x, 0.5)
    x = n.fc("fc7", x, 4096)
    n.relu("relu7", x)
    n.dropout("drop7", x, 0.5)
    x = n.fc("fc8", x, 1000)
    n.softmax("prob", x)
    return n


def _inception(n: Net, name: str, x: str, c1: int, c3r: int, c3: int, c5r: int, c5: int,
               pp: int) -> str:
    p = f"inception_{name}"
    n.conv(f"{p}/1x1", x, c1, 1)
    n.relu(f"{p}/relu_1x1", f"{p}/1x1")
    n.conv(f"{p}/3x3_reduce", x, c3r, 1)
    n.relu(f"{p}/relu_3x3_reduce", f"{p}/3x3_reduce")
    n.conv(f"{p}/3x3", f"{p}/3x3_reduce", c3, 3, pad=1)
    n.relu(f"{p}/relu_3x3", f"{p}/3x3")
    n.conv(f"{p}/5x5_reduce", x, c5r, 1)
    n.relu(f"{p}/relu_5x5_reduce", f"{p}/5x5_reduce")
    n.conv(f"{p}/5x5", f"{p}/5x5_reduce", c5, 5, pad=2)
    n.relu(f"{p}/relu_5x5", f"{p}/5x5")
    n.pool(f"{p}/pool", x, "MAX", 3, 1, pad=1)
    n.conv(f"{p}/pool_proj", f"{p}/pool", pp, 1)
    n.relu(f"{p}/relu_pool_proj", f"{p}/pool_proj")
    return n.concat(f"{p}/output", [f"{p}/1x1", f"{p}/3x3", f"{p}/5x5", f"{p}/pool_proj"])


@_zoo
def googlenet() -> Net:
    """BVLC GoogLeNet (Inception v1, deploy: no auxiliary heads), pre-softmax loss3/classifier."""
    n = Net("GoogleNet", lr_params=True)
    x = n.input("data", (1, 3, 224, 224))
    x = n.conv("conv1/7x7_s2", x, 64, 7, stride=2, pad=3)
    n.relu("conv1/relu_7x7", x)
    x = n.pool("pool1/3x3_s2", x, "MAX", 3, 2)
    x = n.lrn("pool1/norm1", x, 5, 1e-4, 0.75)
    x = n.conv("conv2/3x3_reduce", x, 64, 1)
    n.relu("conv2/relu_3x3_reduce", x)
    x = n.conv("conv2/3x3", x, 192, 3, pad=1)
    n.relu("conv2/relu_3x3", x)
    x = n.lrn("conv2/norm2", x, 5, 1e-4, 0.75)
    x = n.pool("pool2/3x3_s2", x, "MAX", 3, 2)
    x = _inception(n, "3a", x, 64, 96, 128, 16, 32, 32)
    x = _inception(n, "3b", x, 128, 128, 192, 32, 96, 64)
    x = n.pool("pool3/3x3_s2", x, "MAX", 3, 2)
    x = _inception(n, "4a", x, 192, 96, 208, 16, 48, 64)
    x = _inception(n, "4b", x, 160, 112, 224, 24, 64, 64)
    x = _inception(n, "4c", x, 128, 128, 256, 24, 64, 64)
    x = _inception(n, "4d", x, 112, 144, 288, 32, 64, 64)
    x = _inception(n, "4e", x, 256, 160, 320, 32, 128, 128)
    x = n.pool("pool4/3x3_s2", x, "MAX", 3, 2)
    x = _inception(n, "5a", x, 256, 160, 320, 32, 128, 128)
    x = _inception(n, "5b", x, 384, 192, 384, 48, 128, 128)
    x = n.pool("pool5/7x7_s1", x, "AVE", 7, 1)
    x = n.dropout("pool5/drop_7x7_s1", x, 0.4)
    x = n.fc("loss3/classifier", x, 1000)
    n.softmax("prob", x)
    return n


def _conv_bn(n: Net, conv: str, bn: str, scale: str, x: str, ch: int, k: int, stride: int = 1,
             pad: int = 0, relu: str | None = None, gain: float = 2.0) -> str:
    y = n.conv(conv, x, ch, k, stride=stride, pad=pad, bias=False, gain=gain)
    n.batchnorm(bn, y)
    n.scale(scale, y)
    if relu:
        n.relu(relu, y)
    return y


# Weight gains (std = sqrt(gain / fan_in)) of the convolutions that feed a residual sum.
# Without trained BatchNorm statistics nothing renormalises the residual stream, and with He
# gains (2) it grows ~1.4x per block (std ~600 at fc1000). These keep every res* output's
# std within 2..6 and fc1000's near 7.
RESNET_IDENTITY_GAIN = 0.25  # branch2c of identity blocks
RESNET_PROJECTION_GAIN = 0.5  # branch1 and branch2c of projection blocks


def _bottleneck(n: Net, name: str, x: str, mid: int, out: int, stride: int,
                project: bool) -> str:
    # Kaiming He's ResNet-50: the stride sits on the first 1x1 (branch2a) and on branch1.
    if project:
        short = _conv_bn(n, f"res{name}_branch1", f"bn{name}_branch1", f"scale{name}_branch1",
                         x, out, 1, stride, gain=RESNET_PROJECTION_GAIN)
    else:
        short = x
    y = _conv_bn(n, f"res{name}_branch2a", f"bn{name}_branch2a", f"scale{name}_branch2a", x,
                 mid, 1, stride, relu=f"res{name}_branch2a_relu")
    y = _conv_bn(n, f"res{name}_branch2b", f"bn{name}_branch2b", f"scale{name}_branch2b", y,
                 mid, 3, 1, 1, relu=f"res{name}_branch2b_relu")
    y = _conv_bn(n, f"res{name}_branch2c", f"bn{name}_branch2c", f"scale{name}_branch2c", y,
                 out, 1, gain=RESNET_PROJECTION_GAIN if project else RESNET_IDENTITY_GAIN)
    z = n.eltwise(f"res{name}", [short, y])
    n.relu(f"res{name}_relu", z)
    return z


@_zoo
def resnet50() -> Net:
    """Kaiming He's ResNet-50-deploy.prototxt (BatchNorm + Scale), pre-softmax fc1000."""
    n = Net("ResNet-50", input_style="input_dim")
    x = n.input("data", (1, 3, 224, 224))
    x = _conv_bn(n, "conv1", "bn_conv1", "scale_conv1", x, 64, 7, 2, 3, relu="conv1_relu")
    x = n.pool("pool1", x, "MAX", 3, 2)
    stages = [(2, 64, 256, 3, 1), (3, 128, 512, 4, 2), (4, 256, 1024, 6, 2),
              (5, 512, 2048, 3, 2)]
    for stage, mid, out, blocks, stride in stages:
        for b in range(blocks):
            x = _bottleneck(n, f"{stage}{'abcdef'[b]}", x, mid, out,
                            stride if b == 0 else 1, project=b == 0)
    x = n.pool("pool5", x, "AVE", 7, 1)
    x = n.fc("fc1000", x, 1000)
    n.softmax("prob", x)
    return n


def _fire(n: Net, name: str, x: str, squeeze: int, expand: int) -> str:
    p = f"fire{name}"
    s = n.conv(f"{p}/squeeze1x1", x, squeeze, 1)
    n.relu(f"{p}/relu_squeeze1x1", s)
    e1 = n.conv(f"{p}/expand1x1", s, expand, 1)
    n.relu(f"{p}/relu_expand1x1", e1)
    e3 = n.conv(f"{p}/expand3x3", s, expand, 3, pad=1)
    n.relu(f"{p}/relu_expand3x3", e3)
    return n.concat(f"{p}/concat", [e1, e3])


@_zoo
def squeezenet11() -> Net:
    """SqueezeNet v1.1 deploy, 1x3x227x227; conv10 -> relu_conv10 -> pool10 (global AVE).

    The pre-softmax output is pool10 (conv10 is ReLU'd in place before the global pooling).
    """
    n = Net("SqueezeNet_v1.1")
    x = n.input("data", (1, 3, 227, 227))
    x = n.conv("conv1", x, 64, 3, stride=2)
    n.relu("relu_conv1", x)
    x = n.pool("pool1", x, "MAX", 3, 2)
    x = _fire(n, "2", x, 16, 64)
    x = _fire(n, "3", x, 16, 64)
    x = n.pool("pool3", x, "MAX", 3, 2)
    x = _fire(n, "4", x, 32, 128)
    x = _fire(n, "5", x, 32, 128)
    x = n.pool("pool5", x, "MAX", 3, 2)
    x = _fire(n, "6", x, 48, 192)
    x = _fire(n, "7", x, 48, 192)
    x = _fire(n, "8", x, 64, 256)
    x = _fire(n, "9", x, 64, 256)
    x = n.dropout("drop9", x, 0.5)
    x = n.conv("conv10", x, 1000, 1)
    n.relu("relu_conv10", x)
    x = n.pool("pool10", x, "AVE", global_pooling=True)
    n.softmax("prob", x)
    return n


@_zoo
def mobilenet_v1() -> Net:
    """MobileNet v1 (shicai/MobileNet-Caffe deploy), depthwise via group, pre-softmax fc7."""
    n = Net("MOBILENET", input_style="input_shape")
    x = n.input("data", (1, 3, 224, 224))
    x = _conv_bn(n, "conv1", "conv1/bn", "conv1/scale", x, 32, 3, 2, 1, relu="relu1")
    # (name, output channels of the pointwise conv, depthwise stride)
    blocks = [("2_1", 64, 1), ("2_2", 128, 2), ("3_1", 128, 1), ("3_2", 256, 2),
              ("4_1", 256, 1), ("4_2", 512, 2), ("5_1", 512, 1), ("5_2", 512, 1),
              ("5_3", 512, 1), ("5_4", 512, 1), ("5_5", 512, 1), ("5_6", 1024, 2),
              ("6", 1024, 1)]
    for name, out, stride in blocks:
        ch = n.shape(x)[1]
        x = n.conv(f"conv{name}/dw", x, ch, 3, stride=stride, pad=1, group=ch, bias=False)
        n.batchnorm(f"conv{name}/dw/bn", x, eps=1e-5)
        n.scale(f"conv{name}/dw/scale", x)
        n.relu(f"relu{name}/dw", x)
        x = n.conv(f"conv{name}/sep", x, out, 1, bias=False)
        n.batchnorm(f"conv{name}/sep/bn", x, eps=1e-5)
        n.scale(f"conv{name}/sep/scale", x)
        n.relu(f"relu{name}/sep", x)
    x = n.pool("pool6", x, "AVE", global_pooling=True)
    x = n.conv("fc7", x, 1000, 1)
    n.softmax("prob", x)
    return n


# ---- tiny edge-case nets ----


@_zoo
def tiny_eltwise() -> Net:
    """Eltwise SUM with coeffs, PROD, MAX (3 inputs) and plain SUM; pre-softmax ip."""
    n = Net("tiny_eltwise")
    x = n.input("data", (1, 4, 8, 8))
    a = n.conv("conv_a", x, 6, 3, pad=1, gain=1.0)
    b = n.conv("conv_b", x, 6, 3, pad=1, gain=1.0)
    c = n.conv("conv_c", x, 6, 1, gain=1.0)
    s = n.eltwise("sum_coeff", [a, b], "SUM", coeff=[0.5, -1.5])
    p = n.eltwise("prod", [a, b, c], "PROD")
    m = n.eltwise("max", [a, b, c], "MAX")
    t = n.eltwise("sum", [s, p, m])
    n.relu("relu", t)
    y = n.fc("ip", t, 10)
    n.softmax("prob", y)
    return n


@_zoo
def tiny_slice_concat() -> Net:
    """Slice (channels with slice_point, height evenly), Split, Concat on axes 1 and 2."""
    n = Net("tiny_slice_concat")
    x = n.input("data", (1, 6, 8, 8))
    s0, s1, s2 = n.slice("slice_c", x, ["slice_c0", "slice_c1", "slice_c2"], 1, [2, 5])
    a, b = n.split("split", s1, ["split_a", "split_b"])
    ca = n.conv("conv_a", a, 4, 3, pad=1)
    cb = n.conv("conv_b", b, 2, 1)
    cat = n.concat("concat_c", [s0, ca, cb, s2])  # 2 + 4 + 2 + 1 = 9 channels
    top, bottom = n.slice("slice_h", cat, ["slice_h0", "slice_h1"], 2, [3])
    ct = n.conv("conv_top", top, 9, 3, pad=1)
    cat2 = n.concat("concat_h", [bottom, ct], axis=2)  # swap halves along height
    y = n.fc("ip", cat2, 10)
    n.softmax("prob", y)
    return n


@_zoo
def tiny_misc() -> Net:
    """PReLU, BatchNorm with scale factor 999.98, LRN WITHIN_CHANNEL, grouped strided
    Deconvolution, ELU, leaky ReLU, TanH, Power, Sigmoid, AbsVal, Flatten, Reshape, Dropout,
    InnerProduct (with and without bias); pre-softmax ip2."""
    n = Net("tiny_misc")
    x = n.input("data", (1, 3, 12, 12))
    x = n.conv("conv1", x, 8, 3, pad=1)
    n.prelu("prelu1", x)
    n.batchnorm("bn1", x, eps=1e-3, factor=999.98)
    n.scale("scale1", x, bias=False)
    x = n.lrn("norm1", x, 3, 1.0, 0.75, k=2.0, within=True)
    x = n.deconv("deconv1", x, 8, 4, stride=2, pad=1, group=2)  # -> 8x24x24
    n.elu("elu1", x, alpha=0.5)
    x = n.conv("conv2", x, 6, (3, 5), stride=(2, 3), pad=(1, 2))  # -> 6x12x8
    n.relu("leaky2", x, negative_slope=0.1)
    t = n.tanh("tanh", x, top="tanh")
    p = n.power("power", t, power=2.0, scale=0.5, shift=1.0)
    s = n.sigmoid("sigmoid", x, top="sigmoid")
    a = n.absval("abs", x, top="abs")
    y = n.concat("concat", [p, s, a])  # 18x12x8
    f = n.flatten("flatten", y)
    r = n.reshape("reshape", f, [0, 18, -1])  # 1x18x96
    d = n.dropout("drop", r, 0.3, top="drop")
    h = n.fc("ip1", d, 32, bias=False)
    n.relu("relu_ip1", h)
    h = n.fc("ip2", h, 10)
    n.softmax("prob", h)
    return n


@_zoo
def tiny_pool_ceil() -> Net:
    """Pooling where Caffe's ceil rounding and pads matter: partial last windows, AVE with pad
    (divisor counts pad but not the overhang), a window dropped because it would start in the
    pad, rectangular kernels/strides/pads, global MAX; pre-softmax ip."""
    n = Net("tiny_pool_ceil")
    x = n.input("data", (1, 3, 10, 11))
    x = n.conv("conv", x, 4, 1)
    outs = [
        n.pool("max_ceil", x, "MAX", 3, 2),  # 10x11 -> 5x5 (last window partial)
        n.pool("ave_ceil", x, "AVE", 3, 2),  # partial windows divide by the clipped size
        n.pool("max_pad", x, "MAX", 3, 2, pad=1),  # -> 6x6
        n.pool("ave_pad", x, "AVE", 3, 2, pad=1),  # -> 6x6, border divisors count the pad
        n.pool("ave_rect", x, "AVE", (2, 3), (3, 2), pad=(1, 1)),  # -> 4x6
        n.pool("max_drop", x, "MAX", 2, 3, pad=1),  # 5x5 by ceil; the last starts in the pad: 4x4
        n.pool("ave_drop", x, "AVE", 2, 3, pad=1),
        n.pool("max_global", x, "MAX", global_pooling=True),
    ]
    flat = [n.flatten(f"flat_{o}", o) for o in outs]
    y = n.concat("concat", flat)
    y = n.fc("ip", y, 10)
    n.softmax("prob", y)
    return n
