"""Reading a TF graph: a SavedModel signature frozen to a GraphDef, or a frozen GraphDef
``.pb``; which tensors are its inputs and outputs, and the options that say so."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import grpc

from nnrosetta.rpc.errors import Issue
from nnrosetta_frontend_tf.graph.ops._base import TFNode, op_of, tensor_name

# ops that never produce a model output when nothing consumes them
NOT_OUTPUTS = {"NoOp", "Const", "Placeholder", "PlaceholderWithDefault", "Assert", "SaveV2",
               "RestoreV2", "VarHandleOp", "VariableV2", "Variable", "AssignVariableOp",
               "Assign", "MergeV2Checkpoints", "ShardedFilename", "StringJoin", "Print",
               "PrintV2", "ReadVariableOp"}


class LoadError(Exception):
    def __init__(self, issues: list[Issue], status: grpc.StatusCode):
        super().__init__("; ".join(str(i) for i in issues))
        self.issues = issues
        self.status = status


@dataclass
class Source:
    graph_def: Any                          # tf.compat.v1.GraphDef (frozen: no variables)
    inputs: list[str]                       # tensor names fed at run time
    outputs: list[str]                      # tensor names of the model's outputs
    kind: str                               # "saved_model" | "graph_def"
    signature: str = ""
    output_keys: list[str] = field(default_factory=list)   # signature output per output
    input_keys: list[str] = field(default_factory=list)    # signature input per input
    notes: list[str] = field(default_factory=list)
    function: Any = None                    # the signature (SavedModel), to run it as is
    owner: Any = None                       # the loaded SavedModel object it belongs to

    def nodes(self) -> dict[str, TFNode]:
        return {nd.name: TFNode(nd) for nd in self.graph_def.node}


def tensor_list(text: str) -> list[str]:
    return [tensor_name(t.strip()) for t in (text or "").split(",") if t.strip()]


def is_saved_model(path: str) -> bool:
    return os.path.isdir(path) and (os.path.exists(os.path.join(path, "saved_model.pb"))
                                    or os.path.exists(os.path.join(path, "saved_model.pbtxt")))


def load(path: str, options: dict[str, str]) -> Source:
    """The frozen graph of a SavedModel directory or a GraphDef file (LoadError if neither)."""
    if os.path.isdir(path):
        if not is_saved_model(path):
            raise LoadError([Issue("NOT_A_SAVEDMODEL", path, "the folder has no saved_model.pb;"
                                   " send a SavedModel folder or a frozen GraphDef .pb")],
                            grpc.StatusCode.INVALID_ARGUMENT)
        return _saved_model(path, options)
    if os.path.basename(path) == "saved_model.pb" and is_saved_model(os.path.dirname(path)):
        return _saved_model(os.path.dirname(path), options)
    return _graph_def(path, options)


def _saved_model(path: str, options: dict[str, str]) -> Source:
    import tensorflow as tf

    try:
        obj = tf.saved_model.load(path)
    except Exception as e:  # noqa: BLE001 - reported
        raise LoadError([Issue("BAD_SAVEDMODEL", "network", f"TensorFlow cannot load the "
                               f"SavedModel: {type(e).__name__}: {str(e)[:500]}")],
                        grpc.StatusCode.INVALID_ARGUMENT) from e
    sigs = dict(getattr(obj, "signatures", {}) or {})
    want = options.get("signature") or "serving_default"
    if want not in sigs:
        if not options.get("signature") and len(sigs) == 1:
            want = next(iter(sigs))
        else:
            have = ", ".join(sorted(sigs)) or "none"
            raise LoadError([Issue("NO_SIGNATURE", "signature", f"the SavedModel has no "
                                   f"signature {want!r} (signatures: {have}); pick one with "
                                   "the option signature=NAME, or export the model with a "
                                   "serving_default signature")],
                            grpc.StatusCode.INVALID_ARGUMENT)
    fn = sigs[want]
    try:
        gd, inputs = _freeze(fn)
    except Exception as e:  # noqa: BLE001 - reported
        raise LoadError([Issue("FREEZE_FAILED", want, f"freezing the variables of signature "
                               f"{want!r} failed: {type(e).__name__}: {str(e)[:500]}")],
                        grpc.StatusCode.INVALID_ARGUMENT) from e
    in_specs = fn.structured_input_signature[1] if fn.structured_input_signature else {}
    input_keys = sorted(in_specs) if isinstance(in_specs, dict) else []
    outs = tf.nest.flatten(fn.structured_outputs)
    out_keys = sorted(fn.structured_outputs) if isinstance(fn.structured_outputs, dict) else \
        [f"output_{i}" for i in range(len(outs))]
    outputs = [t.name for t in fn.outputs]
    if options.get("outputs"):
        outputs, out_keys = tensor_list(options["outputs"]), []
    if options.get("inputs"):
        inputs, input_keys = tensor_list(options["inputs"]), []
    if len(input_keys) != len(inputs):
        input_keys = []
    return Source(gd, inputs, outputs, "saved_model", want, out_keys, input_keys,
                  function=fn, owner=obj)


def _freeze(fn: Any) -> tuple[Any, list[str]]:
    """(GraphDef, input tensor names) of a ConcreteFunction with its variables and captured
    tensors as constants (the function's own tensor names are kept). TF's converter without
    its last step (building a new ConcreteFunction, half the time on a big model); the
    public call when that is missing."""
    from tensorflow.python.framework import convert_to_constants as cc

    inner = getattr(cc, "_replace_variables_by_constants", None)
    data_cls = getattr(cc, "_FunctionConverterDataInEager", None)
    if inner is not None and data_cls is not None:
        try:
            data = data_cls(func=fn, lower_control_flow=True, aggressive_inlining=False)
            gd, converted = inner(converter_data=data)
            captures = list(fn.graph.internal_captures)
            gone = {captures[i].name for i in converted}
            return gd, [t.name for t in fn.inputs if t.name not in gone]
        except TypeError:
            pass
    frozen = cc.convert_variables_to_constants_v2(fn)
    return frozen.graph.as_graph_def(), [t.name for t in frozen.inputs]


def _graph_def(path: str, options: dict[str, str]) -> Source:
    import tensorflow as tf

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise LoadError([Issue("UNREADABLE", "network", f"cannot read {path}: {e}")],
                        grpc.StatusCode.INVALID_ARGUMENT) from e
    gd = tf.compat.v1.GraphDef()
    try:
        gd.ParseFromString(data)
        if not gd.node:
            raise ValueError("no nodes")
    except Exception as e:  # noqa: BLE001 - reported
        raise LoadError([Issue("NOT_A_GRAPHDEF", "network", f"the file is not a frozen "
                               f"TensorFlow GraphDef ({type(e).__name__}: {str(e)[:200]}); send "
                               "a frozen GraphDef .pb or a SavedModel folder")],
                        grpc.StatusCode.INVALID_ARGUMENT) from e
    nodes = {nd.name: nd for nd in gd.node}
    issues: list[Issue] = []
    for opt in ("inputs", "outputs"):
        for t in tensor_list(options.get(opt, "")):
            if op_of(t) not in nodes:
                issues.append(Issue("BAD_OPTION", opt, f"the graph has no tensor {t!r} (option "
                                    f"{opt}); tensor names look like 'name:0'"))
    if issues:
        raise LoadError(issues, grpc.StatusCode.INVALID_ARGUMENT)
    inputs = tensor_list(options.get("inputs", "")) or \
        [f"{nd.name}:0" for nd in gd.node if nd.op == "Placeholder"]
    outputs = tensor_list(options.get("outputs", "")) or infer_outputs(gd)
    notes = []
    if not options.get("outputs"):
        notes.append(f"outputs inferred (tensors nothing consumes): {', '.join(outputs)}; set "
                     "them with the option outputs=NAME:0,...")
    if not outputs:
        raise LoadError([Issue("NO_OUTPUTS", "outputs", "no output found (every op's output "
                               "is consumed, or only constants are left); name them with the "
                               "option outputs=NAME:0,...")], grpc.StatusCode.INVALID_ARGUMENT)
    return Source(gd, inputs, outputs, "graph_def", notes=notes)


def data_inputs(nd: Any) -> list[str]:
    return [tensor_name(i) for i in nd.input if not i.startswith("^")]


def topo_order(nodes: dict[str, Any], roots: list[str] | None = None,
               stop: set[str] | None = None) -> list[str]:
    """Names of the nodes ``roots`` (default: all) depend on through data inputs, inputs
    first; the walk does not go above the ops in ``stop``. Raises ValueError on a cycle."""
    stop = stop or set()
    order: list[str] = []
    state: dict[str, int] = {}
    for root in (roots if roots is not None else list(nodes)):
        if root not in nodes or state.get(root):
            continue
        stack = [(root, iter([] if root in stop else data_inputs(nodes[root])))]
        state[root] = 1
        while stack:
            cur, it = stack[-1]
            for t in it:
                dep = op_of(t)
                if dep not in nodes:
                    continue
                s = state.get(dep, 0)
                if s == 1:
                    raise ValueError(f"the graph has a cycle through {dep!r} (control flow "
                                     "loops are not supported)")
                if s == 0:
                    state[dep] = 1
                    stack.append((dep, iter([] if dep in stop else data_inputs(nodes[dep]))))
                    break
            else:
                stack.pop()
                state[cur] = 2
                order.append(cur)
    return order


def infer_outputs(gd: Any) -> list[str]:
    """Outputs of a GraphDef: the first output of every op that nothing consumes, that is not
    bookkeeping (NoOp, Const, ...) and that depends on a Placeholder (not constant)."""
    nodes = {nd.name: nd for nd in gd.node}
    used = {op_of(t) for nd in gd.node for t in data_inputs(nd)}
    dynamic: dict[str, bool] = {}
    for n in topo_order(nodes):
        nd = nodes[n]
        dynamic[n] = nd.op == "Placeholder" or any(dynamic.get(op_of(t), False)
                                                   for t in data_inputs(nd))
    return [f"{nd.name}:0" for nd in gd.node
            if nd.name not in used and nd.op not in NOT_OUTPUTS and dynamic.get(nd.name)]
