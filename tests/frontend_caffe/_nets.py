"""Tiny Caffe nets for the tests: prototxt text + a caffemodel written with caffe_pb2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from google.protobuf import text_format

from nnrosetta.proto import caffe_pb2


def write_model(folder: Path, prototxt: str, blobs: dict[str, list[np.ndarray]],
                *, name: str = "net", legacy_blobs: bool = False) -> tuple[Path, Path]:
    """Write name.prototxt and name.caffemodel (layers from the prototxt + blobs by layer)."""
    folder.mkdir(parents=True, exist_ok=True)
    proto = folder / f"{name}.prototxt"
    proto.write_text(prototxt)
    net = caffe_pb2.NetParameter()
    text_format.Parse(prototxt, net)
    layers = net.layers if len(net.layers) else net.layer
    for lay in layers:
        for arr in blobs.get(lay.name, []):
            b = lay.blobs.add()
            arr = np.asarray(arr, dtype=np.float32)
            if legacy_blobs:
                dims = (1,) * (4 - arr.ndim) + arr.shape
                b.num, b.channels, b.height, b.width = (int(d) for d in dims)
            else:
                b.shape.dim.extend(arr.shape)
            b.data.extend(arr.reshape(-1).tolist())
    model = folder / f"{name}.caffemodel"
    model.write_bytes(net.SerializeToString())
    return proto, model


def model_for(proto: Path, weights: Path | None, options: dict | None = None):
    from nnrosetta.rpc.converter import Model

    files = {"network": str(proto)}
    names = {"network": proto.name}
    if weights is not None:
        files["weights"] = str(weights)
        names["weights"] = weights.name
    return Model(format="caffe", options=dict(options or {}), files=files, names=names,
                 workdir=str(proto.parent))


def to_ir(proto: Path, weights: Path | None, options: dict | None = None):
    """(graph, weights dict, progress list) from the converter."""
    from nnrosetta.ir.graph import Graph
    from nnrosetta.rpc.converter import Progress
    from nnrosetta_frontend_caffe import CaffeConverter

    graph, ws, progress = None, {}, []
    for item in CaffeConverter().to_ir(model_for(proto, weights, options)):
        if isinstance(item, Progress):
            progress.append(item)
        elif isinstance(item, Graph):
            graph = item
        else:
            ws[item[0]] = item[1]
    return graph, ws, progress


def rng_blobs(seed: int = 0):
    r = np.random.default_rng(seed)
    return lambda *shape: r.standard_normal(shape).astype(np.float32) * 0.5

