"""Running a Caffe model with OpenCV's dnn module (an independent Caffe runtime, used to
verify conversions). Fusion is off so every fetched layer's output is that layer's own."""

from __future__ import annotations

import os

import grpc
import numpy as np
from google.protobuf import text_format

from nnrosetta.proto import caffe_pb2
from nnrosetta.rpc.errors import ConversionError, Issue
from nnrosetta_frontend_caffe.netspec import (
    DATA_TYPES,
    SKIP_TYPES,
    NetSpec,
    in_test_phase,
    is_loss,
)


def deploy_net(spec: NetSpec, shapes: dict[str, tuple[int, ...]]) -> caffe_pb2.NetParameter:
    """The net as OpenCV should see it: training-only, loss, accuracy and data layers removed,
    data tops and shapeless inputs declared as ``input`` + ``input_shape``."""
    src = spec.net
    net = caffe_pb2.NetParameter()
    net.CopyFrom(src)
    net.ClearField("layer")
    net.ClearField("layers")
    net.ClearField("input")
    net.ClearField("input_shape")
    net.ClearField("input_dim")
    inputs: list[str] = [n for n, _ in spec.inputs]
    declared = dict(spec.inputs)
    for lay in spec.layers:
        if in_test_phase(lay.param) and lay.type in DATA_TYPES:
            inputs += [t for t in lay.top if t in shapes]
    for name in dict.fromkeys(inputs):
        shape = shapes.get(name) or declared.get(name)
        if shape is None:
            raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, "no input shape",
                                  [Issue("MISSING_INPUT_SHAPE", name,
                                         f"input {name!r} needs a shape or a fed value")])
        net.input.append(name)
        net.input_shape.add(dim=list(shape))
    keep = [lay for lay in spec.layers
            if in_test_phase(lay.param) and lay.type not in DATA_TYPES
            and lay.type not in SKIP_TYPES and not is_loss(lay.type)]
    if spec.form == "layers":
        by_index = {lay.index for lay in keep}
        for i, v1 in enumerate(src.layers):
            if i in by_index:
                net.layers.add().CopyFrom(v1)
                net.layers[-1].ClearField("blobs")
    else:
        for lay in keep:
            net.layer.add().CopyFrom(lay.param)
    return net


def run_opencv(prototxt: str, caffemodel: str, spec: NetSpec, inputs: dict[str, np.ndarray],
               fetch: list[str], shapes: dict[str, tuple[int, ...]], *, rewrite: bool,
               workdir: str) -> tuple[list[tuple[str, np.ndarray]], dict[str, str]]:
    import cv2

    if rewrite:
        net_def = deploy_net(spec, shapes)
        prototxt = os.path.join(workdir, "opencv_deploy.prototxt")
        with open(prototxt, "w") as f:
            f.write(text_format.MessageToString(net_def))
    try:
        net = cv2.dnn.readNetFromCaffe(prototxt, caffemodel)
    except cv2.error as e:
        raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT,
                              f"OpenCV cannot load the Caffe model: {e}",
                              [Issue("RUNTIME_LOAD", os.path.basename(prototxt),
                                     str(e).strip().splitlines()[-1])]) from e
    net.enableFusion(False)
    # Winograd keeps a transformed copy of every 3x3 kernel (VGG-16: +360 MB at peak) and
    # rounds differently from a direct convolution; the reference runtime wants neither.
    net.enableWinograd(False)
    net.setPreferableBackend(cv2.dnn.DNN_BACKEND_OPENCV)
    net.setPreferableTarget(cv2.dnn.DNN_TARGET_CPU)
    names = set(net.getLayerNames())
    # OpenCV names some layers (Convolution) after their first top: map Caffe layer names
    tops = {lay.name: lay.top[0] for lay in spec.layers if lay.top}
    cv_fetch = [f if f in names or tops.get(f) not in names else tops[f] for f in fetch]
    missing = [f for f, c in zip(fetch, cv_fetch, strict=True) if c not in names]
    if missing:
        raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, "unknown fetch names",
                              [Issue("BAD_FETCH", f, "no such layer in the Caffe net")
                               for f in missing])
    if not inputs:
        raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, "no inputs fed",
                              [Issue("MISSING_INPUT", "", "feed every net input by blob name")])
    for name, arr in inputs.items():
        net.setInput(np.ascontiguousarray(arr, dtype=np.float32), name)
    try:
        outs = net.forward(cv_fetch)
    except cv2.error as e:
        raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT,
                              f"OpenCV failed to run the Caffe model: {e}",
                              [Issue("RUNTIME", "", str(e).strip().splitlines()[-1])]) from e
    result = [(name, np.array(o, dtype=np.float32)) for name, o in zip(fetch, outs, strict=True)]
    return result, {"runtime": f"opencv-dnn {cv2.__version__}",
                    "rewritten": "yes" if rewrite else "no"}
