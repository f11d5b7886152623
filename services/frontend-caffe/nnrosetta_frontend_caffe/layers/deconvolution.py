from nnrosetta_frontend_caffe.layers._base import Layer, Out, converter
from nnrosetta_frontend_caffe.layers.convolution import conv_like


@converter("Deconvolution")
def convert(layer: Layer, ctx) -> Out:
    """Caffe's Deconvolution: weights [C_in, C_out/group, kh, kw] like IR ConvTranspose."""
    return conv_like(layer, ctx, "ConvTranspose")
