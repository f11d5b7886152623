"""backend-tf emitters: every case of the table, built from the generated Keras code, matches
the IR's NumPy reference (1e-4 relative to the output's scale), intermediate values too; the
generated code handles the layout as intended (channels-last, Permutes only where needed) and
is ruff clean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nnrosetta.ir import registry
from nnrosetta.rpc.converter import Model
from nnrosetta_backend_tf import codegen, emitters

from ._cases import CASES, close, feeds

RUFF = Path(sys.executable).parent / "ruff"


def run_ir(backend, g, w, tmp_path, fetch=()):
    model = Model(format="ir", graph=g, weights=w, workdir=str(tmp_path))
    outs, info = backend.run(model, feeds(g), list(fetch))
    return dict(outs), info


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_reference(name, backend, tmp_path):
    g, w = CASES[name]()
    assert backend.issues(g) == []
    ref = registry.run_reference(g, w, feeds(g))
    outs, info = run_ir(backend, g, w, tmp_path)
    assert info["mode"] == "ir" and list(outs) == list(ref)
    for k, v in outs.items():
        close(v, ref[k])


def test_fetch_intermediates_in_ir_layout(backend, tmp_path):
    """Taps (the divergence locator's fetch): any IR value, returned in the IR's layout,
    including a channels-last value, a flattened one and an input."""
    g, w = CASES["caffe_like"]()
    fetch = ["data", "conv1/7x7_s2", "pool1/norm1", "inception_3a/output", "bn",
             "loss3/classifier", "prob"]
    ref = registry.run_reference(g, w, feeds(g), fetch)
    outs, _ = run_ir(backend, g, w, tmp_path, fetch)
    assert list(outs) == fetch
    for k in fetch:
        close(outs[k], ref[k])
    g, w = CASES["flatten_dropout_dense"]()
    fetch = ["flat", "drop", "r", "c"]
    ref = registry.run_reference(g, w, feeds(g), fetch)
    outs, _ = run_ir(backend, g, w, tmp_path, fetch)
    for k in fetch:   # Keras holds flat, drop, r flattened channels-last
        close(outs[k], ref[k])
    g, w = CASES["resnet_block"]()   # a fetched BatchNorm is not folded with its Scale
    ref = registry.run_reference(g, w, feeds(g), ["bn", "sc"])
    outs, _ = run_ir(backend, g, w, tmp_path, ["bn", "sc"])
    close(outs["bn"], ref["bn"])
    close(outs["sc"], ref["sc"])


def source(name: str) -> str:
    g, w = CASES[name]()
    return codegen.generate(g, w).source


def body(name: str) -> str:
    src = source(name)
    return src[src.index("def build_model"):]


LAYOUT = {
    # name: (must appear, must not appear)
    "flatten_dense": (["layers.Flatten(", "weight rows are permuted"],
                      ["Permute", "ops.transpose"]),
    "fc_on_4d": (["layers.Flatten(", "weight rows are permuted"], ["Permute"]),
    "flatten_dropout_dense": (["weight rows are permuted", "layers.Dropout("], ["Permute"]),
    "flatten_gemm_matmul": (["layers.Dense(7", "layers.Dense(3"], ["Permute", "matmul"]),
    "flatten_to_relu": (['Permute((3, 1, 2), name="c_nchw")'], []),
    "concat_branches": (["Concatenate(axis=-1", "Concatenate(axis=1"], ["Permute"]),
    "reshape_4d": (['Permute((3, 1, 2), name="c_nchw")', "Reshape((4, 64)"], []),
    "reshape_to_conv": (["Reshape((1, 1, 6)", "Reshape((3,)"], ["Permute"]),
    "transpose_cl": (["no data movement", "ops.transpose(c, (3, 0, 1, 2))"], ["Permute"]),
    "se_block": (["GlobalAveragePooling2D(keepdims=True", "y = c * g"], ["Permute"]),
    "resnet_block": (["sc (Scale) is folded", "BatchNormalization(axis=-1"], ["Scale("]),
    "mobilenet_block": (['DepthwiseConv2D(3, strides=2, padding="same"', "depth_multiplier=2",
                         "ZeroPadding2D(((0, 1), (0, 1))", "ReLU(max_value=6.0"], []),
    "conv_grouped": (["groups=2"], []),
    "conv_asym_pads": (["ZeroPadding2D(((2, 0), (0, 1))"], []),
    "conv_same_pads": (['padding="same"'], ["ZeroPadding"]),
    "pool_avg_exclude_pad": (['AveragePooling2D(3, strides=1, padding="same"'], []),
    "pool_avg_include_pad": (["ZeroPadding2D(((1, 1), (1, 1))", "AveragePooling2D(3"], []),
    "pool_avg_ceil_overhang": (["average_pool_exact(", "count_pad=True"], []),
    "pool_max_ceil": (['MaxPooling2D(3, strides=2, padding="same"'], []),
    "pool_max_pads": (['constant_values=float("-inf")'], []),
    "softmax_cl_axis1": (["Softmax(axis=-1"], ["Permute"]),
    "batch_norm": (["BatchNormalization(", "axis=-1", "momentum=0.99"], []),
    "layer_norm_cl_axis1": (["LayerNormalization(", "axis=[1, 2, 3]"], ["Permute"]),
    "reduce_mean_cl": (['layers.GlobalAveragePooling2D(name="n")'], ["Permute", "ops.mean"]),
    "reduce_max_cl_keep": (["ops.max(c, axis=3, keepdims=True)"], ["Permute"]),
    "reduce_mean_hw_keep": (['GlobalAveragePooling2D(keepdims=True, name="n")'], []),
    "prelu_cl": (["PReLU(shared_axes=[1, 2]"], []),
    "lrn_across": (["lrn_across_channels(data, 5, 0.1, 0.75, 2.0)"], []),
    "conv_transpose_grouped_asym": (["Conv2DTranspose(", "_g2", "Cropping2D"], []),
    "resize_nearest_x2": (["UpSampling2D((2, 2)"], []),
    "resize_bilinear_size": (['Resizing(5, 11, interpolation="bilinear"'], []),
}


def assert_code(text: str, want, refuse) -> None:
    """Every string of ``want`` is in the generated code, none of ``refuse``."""
    for s in want:
        assert s in text, f"{s!r} not in\n{text}"
    for s in refuse:
        assert s not in text, f"{s!r} in\n{text}"


@pytest.mark.parametrize("name", sorted(LAYOUT))
def test_layout_handling_in_the_code(name):
    assert_code(body(name), *LAYOUT[name])


def test_model_py_documents_layout_and_loading():
    src = source("caffe_like")
    for s in ['INPUTS = ["data"]', 'OUTPUTS = ["prob"]', 'INPUT_PERMS = {"data": [0, 2, 3, 1]}',
              'OUTPUT_PERMS = {"prob": [0, 1]}', 'keras.models.load_model("model.keras")',
              'net.load_weights("model.weights.h5")', "tf.saved_model.load", "net.fit(",
              "channels-last", 'name="inception_3a_1x1"', "# inception_3a/1x1 (Conv)",
              'name="tiny_googlenet"', "fed transposed (0, 2, 3, 1) as [2, 8, 8, 3]"]:
        assert s in src, s
    # LRN is composed from keras.ops: plain Keras; custom layers are announced where used
    assert "import model" not in src and "class " not in src
    assert "def lrn_across_channels(x, size, alpha, beta, bias):" in src
    assert "import model  # registers the custom layers" in source("scale")


def ruff(path: Path) -> None:
    r = subprocess.run([str(RUFF), "check", "--isolated", "--no-cache", "--line-length", "100",
                        "--select", "E,F,W,I,B,UP", str(path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr + path.read_text()


def test_generated_code_is_ruff_clean(tmp_path):
    for name in ("caffe_like", "flatten_dense", "conv_transpose_grouped_asym", "scale",
                 "transformer_block", "pool_avg_ceil_overhang", "cl_add_const_c11", "split",
                 "resnet_block", "resize_bilinear_size", "pad_constant_channels"):
        path = tmp_path / f"{name}.py"
        path.write_text(source(name))
        ruff(path)


def test_emitter_keys_are_ir_ops():
    assert emitters.not_in_ir_registry() == []
    assert set(emitters.supported_ops()) == set(emitters.all_emitters())


# IR ops with no Keras emitter, and why: the support table says so (Check lists them).
NOT_EMITTED = {
    "Attention", "BatchNormTraining", "DepthToSpace", "SpaceToDepth",
    "GridSample", "LpPool", "LpNormalization", "GroupNormalization", "InstanceNormalization",
    "MeanVarianceNormalization", "RMSNormalization", "Hardmax", "Mod", "Shrink", "SwiGLU",
    "Expand", "Tile", "Where", "ArgMax", "ArgMin", "Equal", "Greater",
    "GreaterOrEqual", "Less", "LessOrEqual", "And", "Or", "Xor", "IsInf",
}


def test_support_page_is_current():
    """docs/keras-backend.md is generated from the emitters (python -m
    nnrosetta_backend_tf.docs); it must say what they do."""
    from nnrosetta_backend_tf import docs

    assert docs.main(["--check"]) == 0


def test_support_table():
    missing = set(registry.all_ops()) - set(emitters.all_emitters())
    assert missing <= NOT_EMITTED, sorted(missing - NOT_EMITTED)
    for op in ("Conv", "ConvTranspose", "Pool", "LRN", "FullyConnected", "Gemm", "MatMul",
               "BatchNorm", "Scale", "Concat", "Add", "Flatten", "Reshape", "Softmax", "Clip",
               "Pad", "Resize", "LayerNormalization", "Transpose", "PRelu", "HardSwish"):
        assert op in emitters.supported_ops()
