import numpy as np

from nnrosetta.ir.registry import op


@op("Constant", inputs=[], outputs=["Y"], weights={"value": True})
class Constant:
    """A constant tensor: ``y = value`` (the weight, of any shape and dtype, e.g. int64
    indices for Gather). Frontends use it for constants that feed an arbitrary input.

    Floating-point constants are normally float32 like every IR activation (the PyTorch
    backend stores floating weights as float32).

    Equivalents: ONNX ``Constant`` or an initializer used as a node input, PyTorch a
    registered buffer (``self.register_buffer``; in the state_dict), TensorFlow
    ``tf.constant``. Caffe has none (constants live inside layers as their blobs).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [tuple(weights["value"])]

    @staticmethod
    def reference(attrs, inputs, weights):
        return [np.array(weights["value"], copy=True)]
