"""Caffe -> IR (frontend-caffe, in process) -> Keras (backend-tf) against OpenCV's Caffe
runtime, MMdnn's classic example: AlexNet (LRN, grouped convolutions, fc6 on the pooled
channels-last blob), GoogLeNet, ResNet-50 (BatchNorm + Scale as one layer), MobileNet
(depthwise), SqueezeNet and the small zoo nets (ceil-mode pooling, Eltwise, Slice, PReLU,
BatchNorm, grouped Deconvolution, Flatten/Reshape). 1e-4 relative to the output's scale, on
the probabilities and on the logits before the softmax. (VGG-16 passes too: left out for
time.)"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from nnrosetta.ir.graph import Graph
from nnrosetta.rpc.converter import Model
from tests.integration.helpers import opencv_forward, scaled_error
from tests.zoo.build import MODELS, build

from .test_backend_tf_files import convert

CAFFE = Path(__file__).resolve().parents[2] / "services" / "frontend-caffe"
if str(CAFFE) not in sys.path:
    sys.path.insert(0, str(CAFFE))

from nnrosetta_frontend_caffe import CaffeConverter  # noqa: E402

TOLERANCE = 1e-4


def caffe_to_ir(prototxt: Path, caffemodel: Path) -> tuple[Graph, dict[str, np.ndarray]]:
    graph, weights = None, {}
    model = Model(format="caffe", files={"network": str(prototxt), "weights": str(caffemodel)})
    for item in CaffeConverter().to_ir(model):
        if isinstance(item, Graph):
            graph = item
        elif isinstance(item, tuple):
            weights[item[0]] = item[1]
    assert graph is not None
    return graph, weights


@pytest.mark.parametrize("name", ["alexnet", "googlenet", "resnet50", "mobilenet_v1",
                                  "squeezenet11", "lenet", "tiny_misc", "tiny_pool_ceil",
                                  "tiny_eltwise", "tiny_slice_concat"])
def test_matches_opencv(name, backend, tmp_path):
    info = MODELS[name]
    prototxt, caffemodel = build(name)
    g, w = caffe_to_ir(prototxt, caffemodel)
    assert backend.issues(g) == []
    artifacts = "all" if name == "alexnet" else "keras"
    files, _ = convert(backend, g, w, tmp_path, artifacts=artifacts)
    rng = np.random.default_rng(7)
    feeds = {k: rng.standard_normal(s).astype(np.float32) for k, s in info.inputs.items()}
    ref = opencv_forward(prototxt, caffemodel, feeds, [info.output, info.pre_softmax])

    uses = ["keras", "savedmodel"] if name == "alexnet" else ["keras"]
    for use in uses:   # the delivered files, loaded as a user would
        outs, _ = backend.run(Model(format="keras", files=files, options={"use": use},
                                    workdir=str(tmp_path)), feeds, [])
        got = outs[0][1]
        assert got.size == ref[info.output].size
        assert scaled_error(ref[info.output], got.reshape(ref[info.output].shape)) <= TOLERANCE
        p_ref, p_got = ref[info.output].reshape(-1), got.reshape(-1)
        if p_ref.min() > 1e-30 and p_got.min() > 1e-30:   # log-probabilities: logits + const
            lr, lg = np.log(p_ref), np.log(p_got)
            assert scaled_error(lr - lr.mean(), lg - lg.mean()) <= TOLERANCE

    # the logits (a softmax over many classes hides errors): fetched from the Keras model
    pre = next(n.name for n in g.nodes if n.attrs.get("_source_name", n.name)
               == info.pre_softmax)
    outs, _ = backend.run(Model(format="ir", graph=g, weights=w, workdir=str(tmp_path)), feeds,
                          [pre])
    want = ref[info.pre_softmax]
    assert scaled_error(want, outs[0][1].reshape(want.shape)) <= TOLERANCE


def test_alexnet_code_reads_like_alexnet(backend):
    from nnrosetta_backend_tf import codegen

    g, w = caffe_to_ir(*build("alexnet"))
    src = codegen.generate(g, w).source
    for s in ['conv1 = layers.Conv2D(96, 11, strides=4, name="conv1")(data)',
              "lrn_across_channels(", "groups=2", 'layers.Flatten(name="fc6_flatten")',
              "weight rows are permuted", 'layers.Dense(4096, name="fc6")',
              'layers.Dropout(0.5, name="drop6")', 'layers.Softmax(axis=-1, name="prob")']:
        assert s in src, s
    assert "Permute" not in src and "ops.transpose" not in src
