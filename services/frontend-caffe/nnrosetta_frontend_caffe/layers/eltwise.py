from nnrosetta.proto import caffe_pb2
from nnrosetta_frontend_caffe.layers._base import Layer, LayerIssue, Out, converter, node

_E = caffe_pb2.EltwiseParameter


@converter("Eltwise")
def convert(layer: Layer, ctx) -> Out:
    p = layer.param.eltwise_param
    if len(layer.top) != 1 or len(layer.bottom) < 2:
        raise LayerIssue("BAD_PARAM", f"Eltwise layer {layer.name!r} needs 2+ bottoms, one top")
    xs = [ctx.ref(b) for b in layer.bottom]
    if len(p.coeff) and (p.operation != _E.SUM or len(p.coeff) != len(xs)):
        raise LayerIssue("BAD_PARAM", f"Eltwise layer {layer.name!r}: coeff needs SUM and one "
                         f"value per bottom ({len(xs)}), has {len(p.coeff)}")
    if p.operation == _E.SUM:
        attrs = {"coeffs": [float(c) for c in p.coeff]} if len(p.coeff) else {}
        return Out([node(layer, "Add", xs, **attrs)])
    return Out([node(layer, "Mul" if p.operation == _E.PROD else "Max", xs)])
