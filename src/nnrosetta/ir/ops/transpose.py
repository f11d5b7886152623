import numpy as np

from nnrosetta.ir.registry import Attr, op


def _perm(attrs, rank):
    perm = [int(p) for p in attrs["perm"]] or list(range(rank))[::-1]
    if sorted(perm) != list(range(rank)):
        raise ValueError(f"perm {perm} is not a permutation of the {rank} dims")
    return perm


@op("Transpose", inputs=["X"], outputs=["Y"], attrs={
    "perm": Attr("ints", [], "output dim i is input dim perm[i]; [] reverses the dims"),
})
class Transpose:
    """Permutes the dims: ``y.shape[i] = x.shape[perm[i]]``; empty ``perm`` reverses them.

    Equivalents: ONNX ``Transpose``, PyTorch ``x.permute(perm)``, TensorFlow
    ``tf.transpose(x, perm)``, Caffe ``Permute`` (SSD fork).
    """

    @staticmethod
    def infer(attrs, shapes, weights):
        x = tuple(shapes[0])
        return [tuple(x[p] for p in _perm(attrs, len(x)))]

    @staticmethod
    def reference(attrs, inputs, weights):
        x = inputs[0]
        return [np.ascontiguousarray(np.transpose(x, _perm(attrs, x.ndim)))]
