from nnrosetta.ir.registry import Attr, op


@op("Input", inputs=[], outputs=["Y"], attrs={
    "shape": Attr("ints", doc="NCHW shape; -1 for a dimension left free (batch)"),
    "dtype": Attr("str", "float32", "element type"),
})
class Input:
    """A graph input (MMdnn's DataInput). Its value is fed at run time.

    Equivalents: Caffe ``Input`` layer (or ``input``/``input_shape``), ONNX graph input,
    PyTorch ``forward`` argument.
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        return [tuple(1 if d < 0 else d for d in attrs["shape"])]

    @staticmethod
    def reference(attrs, inputs, weights):
        raise RuntimeError("Input nodes are fed, not computed")
