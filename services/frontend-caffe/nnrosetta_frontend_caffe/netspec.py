"""Reading a Caffe network definition: prototxt parsing (syntax errors with file:line:col),
the legacy V1 ``layers`` form upgraded to ``layer``, and which layers run at inference."""

from __future__ import annotations

from dataclasses import dataclass, field

from google.protobuf import text_format

from nnrosetta.proto import caffe_pb2
from nnrosetta.rpc.errors import Issue
from nnrosetta_frontend_caffe.layers import Layer

_V1 = caffe_pb2.V1LayerParameter

V1_TYPE_NAMES = {
    _V1.ABSVAL: "AbsVal", _V1.ACCURACY: "Accuracy", _V1.ARGMAX: "ArgMax", _V1.BNLL: "BNLL",
    _V1.CONCAT: "Concat", _V1.CONTRASTIVE_LOSS: "ContrastiveLoss",
    _V1.CONVOLUTION: "Convolution", _V1.DATA: "Data", _V1.DECONVOLUTION: "Deconvolution",
    _V1.DROPOUT: "Dropout", _V1.DUMMY_DATA: "DummyData", _V1.EUCLIDEAN_LOSS: "EuclideanLoss",
    _V1.ELTWISE: "Eltwise", _V1.EXP: "Exp", _V1.FLATTEN: "Flatten", _V1.HDF5_DATA: "HDF5Data",
    _V1.HDF5_OUTPUT: "HDF5Output", _V1.HINGE_LOSS: "HingeLoss", _V1.IM2COL: "Im2col",
    _V1.IMAGE_DATA: "ImageData", _V1.INFOGAIN_LOSS: "InfogainLoss",
    _V1.INNER_PRODUCT: "InnerProduct", _V1.LRN: "LRN", _V1.MEMORY_DATA: "MemoryData",
    _V1.MULTINOMIAL_LOGISTIC_LOSS: "MultinomialLogisticLoss", _V1.MVN: "MVN",
    _V1.POOLING: "Pooling", _V1.POWER: "Power", _V1.RELU: "ReLU", _V1.SIGMOID: "Sigmoid",
    _V1.SIGMOID_CROSS_ENTROPY_LOSS: "SigmoidCrossEntropyLoss", _V1.SILENCE: "Silence",
    _V1.SOFTMAX: "Softmax", _V1.SOFTMAX_LOSS: "SoftmaxWithLoss", _V1.SPLIT: "Split",
    _V1.SLICE: "Slice", _V1.TANH: "TanH", _V1.WINDOW_DATA: "WindowData",
    _V1.THRESHOLD: "Threshold",
}

# Layers that feed data during training: their tops become IR inputs when given a shape.
DATA_TYPES = {"Data", "ImageData", "HDF5Data", "MemoryData", "DummyData", "WindowData",
              "AnnotatedData", "VideoData"}
# Layers that only matter for training or evaluation: skipped.
SKIP_TYPES = {"Accuracy", "Silence", "HDF5Output"}


def is_loss(type_name: str) -> bool:
    return type_name.endswith("Loss")


class SyntaxIssue(Exception):
    def __init__(self, issue: Issue):
        super().__init__(str(issue))
        self.issue = issue


def parse_prototxt(text: str, file_name: str) -> caffe_pb2.NetParameter:
    net = caffe_pb2.NetParameter()
    try:
        text_format.Parse(text, net)
    except text_format.ParseError as e:
        line, col = e.GetLine(), e.GetColumn()
        msg = str(e)
        # ParseError's text starts with "line:col : "; keep the message only
        head = f"{line}:{col} : "
        if msg.startswith(head):
            msg = msg[len(head):]
        loc = f"{file_name}:{line}:{col}" if line else file_name
        raise SyntaxIssue(Issue("SYNTAX", loc, f"prototxt does not parse: {msg}")) from e
    return net


def upgrade_v1(v1: caffe_pb2.V1LayerParameter) -> caffe_pb2.LayerParameter:
    """A V1 (``layers``) layer in the current form (what Caffe's UpgradeV1LayerParameter does
    for inference: names, bottoms, tops, rules, type, params; never blobs)."""
    lp = caffe_pb2.LayerParameter(name=v1.name, bottom=v1.bottom, top=v1.top)
    lp.type = V1_TYPE_NAMES.get(v1.type, f"V1:{_V1.LayerType.Name(v1.type)}"
                                if v1.type in _V1.LayerType.values() else f"V1:{v1.type}")
    lp.include.extend(v1.include)
    lp.exclude.extend(v1.exclude)
    lp.loss_weight.extend(v1.loss_weight)
    for f in v1.DESCRIPTOR.fields:
        if f.name.endswith("_param") and v1.HasField(f.name):
            getattr(lp, f.name).CopyFrom(getattr(v1, f.name))
    return lp


def _rule_met(rule: caffe_pb2.NetStateRule, state: caffe_pb2.NetState) -> bool:
    if rule.HasField("phase") and rule.phase != state.phase:
        return False
    if rule.HasField("min_level") and state.level < rule.min_level:
        return False
    if rule.HasField("max_level") and state.level > rule.max_level:
        return False
    if any(s not in state.stage for s in rule.stage):
        return False
    return not any(s in state.stage for s in rule.not_stage)


def in_test_phase(lp: caffe_pb2.LayerParameter) -> bool:
    """Caffe's StateMeetsRule for the TEST phase (level 0, no stages)."""
    state = caffe_pb2.NetState(phase=caffe_pb2.TEST)
    if lp.include:
        return any(_rule_met(r, state) for r in lp.include)
    return not any(_rule_met(r, state) for r in lp.exclude)


@dataclass
class NetSpec:
    net: caffe_pb2.NetParameter          # as parsed (original form, for rewriting)
    layers: list[Layer]                  # every layer, upgraded to the current form
    form: str                            # "layer" or "layers" (V1)
    inputs: list[tuple[str, tuple[int, ...] | None]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def net_spec(net: caffe_pb2.NetParameter, file_name: str) -> NetSpec:
    issues: list[Issue] = []
    if len(net.layer) and len(net.layers):
        issues.append(Issue("BAD_NET", file_name, "the net mixes `layer` and legacy `layers`; "
                            "use one form"))
    form = "layers" if len(net.layers) and not len(net.layer) else "layer"
    layers: list[Layer] = []
    if form == "layers":
        for i, v1 in enumerate(net.layers):
            if v1.HasField("layer"):
                issues.append(Issue("UNSUPPORTED_LAYER", v1.name or f"layers[{i}]",
                                    "V0 layer definitions (a `layer` inside `layers`) are "
                                    "not supported; upgrade the net with Caffe's "
                                    "upgrade_net_proto_text"))
                continue
            layers.append(Layer(upgrade_v1(v1), i, "layers"))
    else:
        for i, lp in enumerate(net.layer):
            p = caffe_pb2.LayerParameter()
            p.CopyFrom(lp)
            p.ClearField("blobs")
            layers.append(Layer(p, i, "layer"))
    inputs: list[tuple[str, tuple[int, ...] | None]] = []
    names = list(net.input)
    if len(net.input_shape):
        if len(net.input_shape) not in (1, len(names)):
            issues.append(Issue("BAD_NET", file_name, f"{len(names)} inputs but "
                                f"{len(net.input_shape)} input_shape entries"))
        for i, n in enumerate(names):
            s = net.input_shape[min(i, len(net.input_shape) - 1)]
            inputs.append((n, tuple(int(d) for d in s.dim)))
    elif len(net.input_dim):
        dims = [int(d) for d in net.input_dim]
        if len(dims) != 4 * len(names):
            issues.append(Issue("BAD_NET", file_name, f"{len(names)} inputs need "
                                f"{4 * len(names)} input_dim values, found {len(dims)}"))
        for i, n in enumerate(names):
            s = dims[4 * i:4 * i + 4]
            inputs.append((n, tuple(s) if len(s) == 4 else None))
    else:
        inputs = [(n, None) for n in names]
    return NetSpec(net, layers, form, inputs, issues)
