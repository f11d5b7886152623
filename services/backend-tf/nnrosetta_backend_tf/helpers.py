"""Source of the helper functions and custom layers a generated ``model.py`` may include.

Functions compose standard Keras layers and ``keras.ops`` (a model built with them saves and
loads as plain Keras, safe mode on); custom layer classes (only for what no Keras layer holds:
a stored constant, a Caffe ``Scale``) are registered under the package ``nnrosetta``, so loading
``model.keras`` needs ``import model`` first.
"""

from __future__ import annotations

_REGISTER = '@keras.saving.register_keras_serializable(package="nnrosetta")'

SOURCES: dict[str, str] = {
    "Constant": _REGISTER + '''
class Constant(layers.Layer):
    """A stored tensor (an IR Constant) as a model value. The input only anchors it in the
    graph; the value is a weight, saved with the model and not trained."""

    def __init__(self, shape, value_dtype="float32", **kwargs):
        super().__init__(**kwargs)
        self.value_shape = tuple(shape)
        self.value_dtype = value_dtype
        self.value = self.add_weight(name="value", shape=self.value_shape, dtype=value_dtype,
                                     initializer="zeros", trainable=False)

    def call(self, anchor):
        return ops.convert_to_tensor(self.value)

    def get_config(self):
        return {**super().get_config(), "shape": list(self.value_shape),
                "value_dtype": self.value_dtype}''',
    "Scale": _REGISTER + '''
class Scale(layers.Layer):
    """Caffe's Scale layer: y = x * scale + bias, elementwise. ``shape`` is the parameters'
    shape, laid out to broadcast against x (e.g. (C,) for a channels-last input)."""

    def __init__(self, shape, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.param_shape = tuple(shape)
        self.use_bias = use_bias

    def build(self, input_shape):
        self.scale = self.add_weight(name="scale", shape=self.param_shape, initializer="ones")
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=self.param_shape,
                                        initializer="zeros")

    def call(self, x):
        y = x * self.scale
        return y + self.bias if self.use_bias else y

    def get_config(self):
        return {**super().get_config(), "shape": list(self.param_shape),
                "use_bias": self.use_bias}''',
    "lrn_across_channels": '''
def lrn_across_channels(x, size, alpha, beta, bias):
    """Local response normalization across channels (Caffe ACROSS_CHANNELS, PyTorch
    nn.LocalResponseNorm) of a channels-last tensor:
    x / (bias + alpha / size * sum of x**2 over `size` neighbouring channels) ** beta, the
    channels zero padded. The window sum is an average pool over the channel axis."""
    rank = len(x.shape)
    squares = ops.expand_dims(ops.square(x), -1)  # channels become a pooled axis
    pads = [[0, 0]] * (rank - 1) + [[size // 2, (size - 1) // 2], [0, 0]]
    window = [1] * (rank - 2) + [size]
    mean = ops.average_pool(ops.pad(squares, pads), window, strides=1, padding="valid")
    return x / ops.power(bias + alpha * ops.squeeze(mean, -1), beta)''',
    "lrn_within_channel": '''
def lrn_within_channel(x, size, alpha, beta, bias):
    """Local response normalization within each channel (Caffe WITHIN_CHANNEL) of a
    channels-last tensor: x / (bias + alpha * mean of x**2 over a size x size window) ** beta,
    zero padded by (size - 1) // 2 before and size // 2 after."""
    rank = len(x.shape)
    pads = [[0, 0]] + [[(size - 1) // 2, size // 2]] * (rank - 2) + [[0, 0]]
    mean = ops.average_pool(ops.pad(ops.square(x), pads), size, strides=1, padding="valid")
    return x / ops.power(bias + alpha * mean, beta)''',
    "average_pool_exact": '''
def average_pool_exact(x, pool_size, strides, pads, beyond, count_pad):
    """Average pooling of a channels-last tensor with explicit zero padding ``pads`` ((begin,
    end) per spatial axis) and ``beyond`` more positions at the end that ceil_mode windows
    reach past the padded input (never counted). Each window's sum is divided by its number
    of positions inside the padded input (count_pad: Caffe AVE, PyTorch
    count_include_pad=True) or inside the input (count_include_pad=False)."""
    spec = [[0, 0]] + [[b, e + k] for (b, e), k in zip(pads, beyond, strict=True)] + [[0, 0]]
    total = ops.average_pool(ops.pad(x, spec), pool_size, strides, padding="valid")
    ones = ops.ones_like(x[..., :1])
    if count_pad:
        ones = ops.pad(ones, [[0, 0]] + [list(p) for p in pads] + [[0, 0]],
                       constant_values=1.0)
        spec = [[0, 0]] + [[0, k] for k in beyond] + [[0, 0]]
    counted = ops.average_pool(ops.pad(ones, spec), pool_size, strides, padding="valid")
    return total / counted''',
}


def source(name: str) -> str:
    return SOURCES[name].strip("\n")


def is_layer(name: str) -> bool:
    """Whether helper ``name`` is a custom layer class (loading then needs model.py)."""
    return "class " + name in SOURCES[name]
