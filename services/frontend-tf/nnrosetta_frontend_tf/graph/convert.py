"""A frozen TF graph -> IR graph.

1. The nodes the outputs need (stopping at the inputs), in topological order.
2. Preflight: which nodes are constant (Const, and allow-listed side-effect-free ops of
   constants, and Shape-like ops of statically shaped tensors); every other node needs an
   importer. All unsupported op types are reported at once before any conversion work.
3. Constants that the rest of the graph reads are evaluated by TensorFlow in one run.
4. Inputs become IR Input nodes (channels first for rank 4 and 5: NHWC -> NCHW).
5. The remaining nodes go through their importers in order; shape-dependent constants
   (Shape -> StridedSlice -> Pack of a Flatten) are folded on the way.
6. Graph outputs, dead-node pruning, IR validation and shape inference.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

import grpc
import numpy as np

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Graph, Node, TensorInfo
from nnrosetta.options import parse_input_shapes
from nnrosetta.rpc.errors import Issue
from nnrosetta_frontend_tf.conversion import Conversion
from nnrosetta_frontend_tf.graph import tfexec
from nnrosetta_frontend_tf.graph.context import Broken, ImportContext, sanitize
from nnrosetta_frontend_tf.graph.layout import Act, Perm, channels_first, src_shape
from nnrosetta_frontend_tf.graph.load import Source, topo_order
from nnrosetta_frontend_tf.graph.ops import all_importers
from nnrosetta_frontend_tf.graph.ops._base import NodeIssue, TFNode, op_of

# side-effect-free ops that are folded when all their inputs are constant
FOLDABLE = {
    "Const", "Identity", "IdentityN", "StopGradient", "Snapshot", "PreventGradient",
    "PlaceholderWithDefault", "EnsureShape", "Reshape", "Squeeze", "ExpandDims", "Transpose",
    "ConcatV2", "Concat", "Pack", "Unpack", "StridedSlice", "Slice", "Shape", "ShapeN",
    "Size", "Rank", "Fill", "Range", "ZerosLike", "OnesLike", "Cast", "Bitcast", "Add",
    "AddV2", "AddN", "Sub", "Mul", "RealDiv", "Div", "DivNoNan", "FloorDiv", "FloorMod",
    "TruncateDiv", "Mod", "Maximum", "Minimum", "Pow", "Neg", "Rsqrt", "Sqrt", "Square",
    "SquaredDifference", "Exp", "Log", "Log1p", "Reciprocal", "Inv", "Abs", "Sign", "Floor",
    "Ceil", "Round", "Erf", "Tanh", "Sigmoid", "Relu", "Relu6", "Tile", "GatherV2", "Gather",
    "GatherNd", "Prod", "Sum", "Mean", "Max", "Min", "All", "Any", "ArgMax", "ArgMin",
    "MatMul", "BatchMatMulV2", "BatchMatMulV3", "Split", "SplitV", "Select", "SelectV2",
    "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd",
    "LogicalOr", "LogicalNot", "BroadcastTo", "BroadcastArgs", "ReverseV2", "Cumsum",
    "OneHot", "Pad", "PadV2", "MirrorPad", "Softmax", "BiasAdd", "Einsum", "TensorScatterUpdate",
    "ScatterNd", "Where", "Unique", "ListDiff", "InvertPermutation", "LinSpace",
}
SHAPE_OPS = {"Shape", "ShapeN", "Size", "Rank"}
# what to do about ops that mean the graph is not a frozen inference graph
HINTS = {
    "VarHandleOp": "the graph still has variables: freeze it (convert_variables_to_constants_v2)"
                   " or send the SavedModel folder",
    "VariableV2": "the graph still has variables: freeze it or send the SavedModel folder",
    "ReadVariableOp": "the graph still has variables: freeze it or send the SavedModel folder",
    "PartitionedCall": "function calls are not inlined: freeze the graph from a concrete "
                       "function (convert_variables_to_constants_v2 inlines them)",
    "StatefulPartitionedCall": "function calls are not inlined: freeze the graph from a "
                               "concrete function (convert_variables_to_constants_v2)",
    "While": "control flow (loops) cannot be expressed in the IR",
    "StatelessWhile": "control flow (loops) cannot be expressed in the IR",
    "If": "control flow (conditionals) cannot be expressed in the IR",
    "StatelessIf": "control flow (conditionals) cannot be expressed in the IR",
    "Switch": "control flow cannot be expressed in the IR",
    "Merge": "control flow cannot be expressed in the IR",
    "PyFunc": "a Python function in the graph cannot be converted (nor run)",
    "EagerPyFunc": "a Python function in the graph cannot be converted (nor run)",
}


def _status(issues: list[Issue], unimplemented: bool) -> grpc.StatusCode:
    if not issues:
        return grpc.StatusCode.OK
    return grpc.StatusCode.UNIMPLEMENTED if unimplemented else grpc.StatusCode.INVALID_ARGUMENT


def _fail(issues: list[Issue], notes: list[str], unimplemented: bool = False) -> Conversion:
    return Conversion(None, {}, issues, _status(issues, unimplemented), notes)


def _common_prefix(names: list[str]) -> str:
    """The longest '/'-ended scope all the names share (``StatefulPartitionedCall/model/``)."""
    if not names:
        return ""
    prefix = os.path.commonprefix(names)
    return prefix[:prefix.rfind("/") + 1] if "/" in prefix else ""


SPATIAL = {"Conv2D", "Conv3D", "DepthwiseConv2dNative", "Conv2DBackpropInput",
           "Conv3DBackpropInputV2", "MaxPool", "AvgPool", "MaxPool3D", "AvgPool3D", "MaxPoolV2",
           "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"}
PASSTHROUGH = {"Identity", "StopGradient", "Snapshot", "PreventGradient", "EnsureShape"}


def input_layouts(names: list[str], nodes: dict[str, TFNode]) -> Callable[[int], Perm]:
    """The layout each input rank gets, as the Keras importer chooses it: images (rank 4, 5,
    and 3 when the graph has 1-D convs or pooling, ExpandDims before a 2-D op) go channels
    first; nothing moves in a graph whose spatial ops are channels first already (NCHW)."""
    nchw = has_1d = False
    for name in names:
        node = nodes[name]
        if node.op not in SPATIAL:
            continue
        nchw |= node.data_format().startswith("NC")
        src = nodes.get(op_of(node.input(0)))
        while src is not None and src.op in PASSTHROUGH and src.inputs:
            src = nodes.get(op_of(src.inputs[0]))
        has_1d |= src is not None and src.op == "ExpandDims"

    def layout(rank: int) -> Perm:
        if nchw:
            return None
        return channels_first(rank) if rank in (4, 5) or (rank == 3 and has_1d) else None

    return layout


def input_name(tensor: str) -> str:
    op, _, idx = tensor.rpartition(":")
    return sanitize(op if idx == "0" else tensor)


def convert_source(src: Source, options: Mapping[str, str]) -> Conversion:
    return convert_with_layouts(src, options)[0]


def convert_with_layouts(src: Source, options: Mapping[str, str],
                         ) -> tuple[Conversion, dict[str, tuple[int, ...] | None]]:
    """The conversion, and the layout of every TF tensor it holds as an activation (tensor
    name -> ``_source_perm``; what Run needs to return fetched tensors in IR layout)."""
    perms: dict[str, tuple[int, ...] | None] = {}
    return _convert(src, options, perms), perms


def _convert(src: Source, options: Mapping[str, str], perms: dict) -> Conversion:
    notes = list(src.notes)
    raw = {nd.name: nd for nd in src.graph_def.node}
    nodes = {name: TFNode(nd) for name, nd in raw.items()}
    missing = [Issue("BAD_OUTPUT", t, f"the graph has no tensor {t!r}")
               for t in src.outputs if op_of(t) not in raw]
    if missing:
        return _fail(missing, notes)
    try:
        order = topo_order(raw, [op_of(t) for t in src.outputs],
                           stop={op_of(t) for t in src.inputs})
    except ValueError as e:
        return _fail([Issue("BAD_GRAPH", "<graph>", str(e))], notes, True)
    input_layout = input_layouts(order, nodes)
    for t in src.inputs:
        shape = nodes[op_of(t)].attr("shape") if op_of(t) in nodes else None
        if shape is not None:
            perms[t] = input_layout(len(shape))

    pre = _preflight(src, order, nodes)
    notes.extend(pre.notes)
    if pre.issues:
        return _fail(pre.issues, notes, pre.unimplemented)
    consts, issues = _constants(src, order, nodes, pre.kind)
    if issues:
        return _fail(issues, notes)
    dyn = [n for n in order if pre.kind[n] == "dyn" and nodes[n].op not in PASSTHROUGH]
    ctx = ImportContext(pre.consumers, set(src.outputs), _common_prefix(dyn))
    ctx.values.update(consts)
    ctx.perms = perms
    issues = _inputs(src, nodes, ctx, options, notes, input_layout)
    if issues:
        return _fail(issues, notes)
    issues, unimplemented = _walk(src, order, nodes, pre, ctx)
    out_refs = _outputs(src, ctx, issues, notes)
    notes.extend(ctx.notes)
    if issues:
        return _fail(issues, notes, unimplemented)
    return _finish(src, ctx, out_refs, notes)


class _Preflight:
    """Per needed node its kind ("input" | "pure": a constant computable from Const nodes |
    "shape": a constant once static shapes are known | "dyn": computed at run time), who
    reads each tensor, and every problem found before converting."""

    def __init__(self):
        self.kind: dict[str, str] = {}
        self.consumers: dict[str, list[TFNode]] = {}
        self.issues: list[Issue] = []
        self.notes: list[str] = []
        self.unimplemented = False


def _preflight(src: Source, order: list[str], nodes: dict[str, TFNode]) -> _Preflight:
    pre = _Preflight()
    importers = all_importers()
    in_ops = {op_of(t) for t in src.inputs}
    unsupported: dict[str, list[str]] = {}
    for name in order:
        node = nodes[name]
        if name in in_ops:
            pre.kind[name] = "input"
            continue
        for t in node.inputs:
            pre.consumers.setdefault(t, []).append(node)
        ins = [pre.kind.get(op_of(t), "dyn") for t in node.inputs]
        if node.op == "Const":
            pre.kind[name] = "pure"
        elif node.op in SHAPE_OPS or (node.op in FOLDABLE
                                      and all(k in ("pure", "shape") for k in ins)):
            pre.kind[name] = "pure" if all(k == "pure" for k in ins) else "shape"
        elif node.op == "Placeholder":
            pre.kind[name] = "dyn"
            pre.issues.append(Issue("UNFED_PLACEHOLDER", name, f"Placeholder {name!r} is "
                                    f"needed but not an input (inputs: "
                                    f"{', '.join(src.inputs)}); add it to the option inputs"))
        else:
            pre.kind[name] = "dyn"
            if node.op not in importers:
                unsupported.setdefault(node.op, []).append(name)
    for op, names in sorted(unsupported.items()):
        why = HINTS.get(op, "see the tf: ops of Describe for the supported ones")
        pre.issues.extend(Issue("UNSUPPORTED_OP", name, f"TF op {op} (node {name!r}) is not "
                                f"supported by the TensorFlow graph importer; {why}")
                          for name in names)
    if unsupported:
        pre.unimplemented = True
        pre.notes.append("unsupported TF ops: " + ", ".join(
            f"{op} ({len(v)})" for op, v in sorted(unsupported.items())))
    return pre


def _constants(src: Source, order: list[str], nodes: dict[str, TFNode], kind: dict[str, str],
               ) -> tuple[dict[str, np.ndarray], list[Issue]]:
    """The constants that the rest of the graph reads: Const values as they are, the others
    computed by TensorFlow in one run."""
    wanted: list[str] = []
    for name in order:
        if kind[name] in ("dyn", "shape"):
            wanted.extend(t for t in nodes[name].inputs if kind.get(op_of(t)) == "pure")
    wanted.extend(t for t in src.outputs if kind.get(op_of(t)) == "pure")
    consts: dict[str, np.ndarray] = {}
    to_run = []
    for t in dict.fromkeys(wanted):
        node = nodes[op_of(t)]
        if node.op == "Const" and t.endswith(":0"):
            consts[t] = np.asarray(node.attr("value"))
        else:
            to_run.append(t)
    issues = []
    for t, v in tfexec.evaluate_constants(src.graph_def, to_run).items():
        if isinstance(v, Exception):
            issues.append(Issue("FOLD_FAILED", op_of(t), f"computing the constant {t!r} with "
                                f"TensorFlow failed: {type(v).__name__}: {str(v)[:300]}"))
        else:
            consts[t] = v
    return consts, issues


def _inputs(src: Source, nodes: dict[str, TFNode], ctx: ImportContext,
            options: Mapping[str, str], notes: list[str],
            input_layout: Callable[[int], Perm]) -> list[Issue]:
    """An IR Input per input tensor (its shape from the graph or the option input_shape)."""
    try:
        shapes = parse_input_shapes(options.get("input_shape", ""))
    except ValueError as e:
        return [Issue("BAD_OPTION", "input_shape", f"{e}; the format is "
                      "input_shape=\"name:1,3,224,224;other:1,10\" (IR layout: NCHW)")]
    issues: list[Issue] = []
    keys = dict(zip(src.inputs, src.input_keys, strict=False))
    used_keys: set[str] = set()
    for t in src.inputs:
        node = nodes.get(op_of(t))
        name = ctx.unique(input_name(t))
        cands = [c for c in (name, t, op_of(t), keys.get(t, "")) if c in shapes]
        used_keys.update(cands)
        declared = node.attr("shape") if node is not None and node.op.startswith("Placeholder") \
            else None
        if declared is None and node is not None and node.has_attr("_output_shapes"):
            outs = node.attr("_output_shapes")
            declared = outs if outs and isinstance(outs[0], int) else None
        res = _input_shape(t, name, declared, shapes[cands[0]] if cands else None, notes,
                           input_layout)
        if isinstance(res, Issue):
            issues.append(res)
            continue
        dtype = node.attr("dtype", "float32") if node is not None else "float32"
        dtype = "float32" if dtype in ("float16", "float64", "bfloat16") else dtype
        perm = input_layout(len(res))
        ir = [res[p] for p in perm] if perm else list(res)
        n = Node(name, "Input", [], {"shape": ir, "dtype": dtype,
                                     "_source_name": op_of(t) if t.endswith(":0") else t,
                                     "_source_op": node.op if node is not None else "Input"})
        if perm:
            n.attrs["_source_perm"] = list(perm)
        ctx.nodes.append(n)
        ctx.shapes[name] = tuple(ir)
        ctx.values[t] = Act(name, tuple(res), perm, dtype)
        ctx.perms[t] = perm
    issues.extend(Issue("BAD_OPTION", "input_shape", f"the model has no input {k!r} (inputs: "
                        f"{', '.join(input_name(t) for t in src.inputs)})")
                  for k in shapes if k not in used_keys)
    return issues


def _walk(src: Source, order: list[str], nodes: dict[str, TFNode], pre: _Preflight,
          ctx: ImportContext) -> tuple[list[Issue], bool]:
    """Every run-time node through its importer, shape-dependent constants folded; a failing
    node is reported and what depends on it skipped quietly."""
    importers = all_importers()
    issues: list[Issue] = []
    unimplemented = False
    for name in order:
        if pre.kind[name] in ("input", "pure"):
            continue
        node = nodes[name]
        if any(op_of(t) in ctx.broken for t in node.inputs):
            ctx.broken.add(name)
            continue
        ctx.begin(node)
        try:
            if name in ctx.fused:
                outs = ctx.fused.pop(name)
            elif node.op in SHAPE_OPS:
                outs = _shape_op(node, ctx)
            elif pre.kind[name] == "shape":
                outs = tfexec.fold_node(node.nd, [ctx.const(t) for t in node.inputs])
            else:
                outs = importers[node.op].fn(node, ctx)
        except Broken:
            ctx.rollback()
            ctx.broken.add(name)
            continue
        except NodeIssue as e:
            ctx.rollback()
            ctx.broken.add(name)
            unimplemented |= e.status == grpc.StatusCode.UNIMPLEMENTED
            msg = e.message if name in e.message else f"{node.label}: {e.message}"
            issues.append(Issue(e.code, name, msg))
            continue
        except Exception as e:  # noqa: BLE001 - one node's failure must not hide the others
            ctx.rollback()
            ctx.broken.add(name)
            issues.append(Issue("IMPORT_FAILED", name, f"{node.label}: {type(e).__name__}: "
                                f"{str(e)[:300]}"))
            continue
        for i, v in enumerate(outs):
            t = f"{name}:{i}"
            if v is None:
                if t in pre.consumers or t in src.outputs:
                    issues.append(Issue("UNSUPPORTED_OUTPUT", name, f"{node.label}: output {i}"
                                        " is used, but the IR does not compute it"))
                    unimplemented = True
                continue
            ctx.values[t] = v
            if isinstance(v, Act):
                ctx.perms[t] = v.perm
    return issues, unimplemented


def _outputs(src: Source, ctx: ImportContext, issues: list[Issue], notes: list[str],
             ) -> list[str]:
    """The IR refs of the outputs (an Identity where an output is an input or repeats one)."""
    ctx.begin(None)
    out_refs: list[str] = []
    inputs = {n.name for n in ctx.nodes if n.op == "Input"}
    for t in src.outputs:
        if op_of(t) in ctx.broken:
            continue
        v = ctx.values.get(t)
        if v is None:
            issues.append(Issue("BAD_OUTPUT", t, f"output {t!r} is not computed"))
            continue
        ctx.base = ctx.ir_name(op_of(t))
        if not isinstance(v, Act):
            notes.append(f"output {t!r} is a constant")
            v = ctx.const_act(v)
        ref = v.ref
        if ref in inputs or ref in out_refs:
            ref = ctx.emit("Identity", [ref], perm=v.perm,
                           source=op_of(t) if t.endswith(":0") else t).ref
        out_refs.append(ref)
    return out_refs


def _finish(src: Source, ctx: ImportContext, out_refs: list[str], notes: list[str],
            ) -> Conversion:
    """The graph without dead nodes, validated, with its shapes annotated."""
    graph = Graph(ctx.nodes, out_refs, {
        "framework": "tensorflow", "source_format": "tensorflow",
        "producer": "nnrosetta frontend-tf", "tf_graph": src.kind,
        **({"tf_signature": src.signature} if src.signature else {}),
        **({"tf_output_keys": ",".join(src.output_keys)} if src.output_keys else {}),
    })
    live = graph.live_nodes(out_refs) | {n.name for n in graph.nodes if n.op == "Input"}
    graph.nodes = [n for n in graph.nodes if n.name in live]
    weights = {k: v for k, v in ctx.weights.items() if k.rpartition(".")[0] in live}
    graph.tensors = {k: TensorInfo(k, v.dtype.name, tuple(v.shape)) for k, v in weights.items()}
    issues = []
    try:
        registry.infer_shapes(graph)
    except ValueError as e:
        issues.append(Issue("BAD_SHAPE", "<graph>", str(e)))
    issues.extend(Issue("INVALID_IR", where, problem)
                  for where, problem in registry.validate(graph))
    if issues:
        return _fail(issues, notes)
    return Conversion(graph, weights, [], grpc.StatusCode.OK, notes)


def _input_shape(t: str, name: str, declared, given, notes: list[str],
                 input_layout: Callable[[int], Perm]):
    """The source (TF layout) shape of an input, or an Issue."""
    if declared is None or len(declared) == 4:
        example = "1,3,224,224"
    else:
        ir = src_shape(declared, None) if input_layout(len(declared)) is None else \
            [declared[p] for p in input_layout(len(declared))]
        example = ",".join(str(d) if d and d > 0 else "1" for d in ir)
    hint = (f"pass it in IR layout (NCHW for images) with the option input_shape, e.g. "
            f"input_shape=\"{name}:{example}\"")
    if given is not None:
        rank = len(declared) if declared is not None else len(given)
        if len(given) == rank - 1:
            given = (1, *given)
        if len(given) != rank:
            return Issue("BAD_OPTION", "input_shape", f"input {name!r}: input_shape has "
                         f"{len(given)} dims, the model's input has {rank}")
        shape = src_shape(given, input_layout(rank))
        if declared is not None:
            for d, g in zip(declared, shape, strict=True):
                if d is not None and d > 0 and d != g:
                    return Issue("BAD_OPTION", "input_shape", f"input {name!r}: input_shape "
                                 f"{list(given)} (IR layout) is {list(shape)} in TF layout, "
                                 f"but the model declares {list(declared)}")
        return tuple(int(d) for d in shape)
    if declared is None:
        return Issue("MISSING_INPUT_SHAPE", name, f"input {t!r} has an unknown shape; {hint}")
    dims = [int(d) if d is not None else -1 for d in declared]
    if dims and dims[0] < 0:
        dims[0] = 1
        notes.append(f"input {name!r}: free batch dimension set to 1")
    if any(d < 0 for d in dims):
        return Issue("MISSING_INPUT_SHAPE", name, f"input {t!r} has unknown dims "
                     f"{[d if d >= 0 else None for d in declared]} (TF layout); {hint}")
    return tuple(dims)


def _shape_op(node: TFNode, ctx: ImportContext) -> list[np.ndarray]:
    """Shape / ShapeN / Size / Rank of statically shaped tensors: constants."""
    dt = node.attr("out_type", "int32")
    if node.op == "ShapeN":
        return [np.asarray(ctx.shape(t), dtype=dt) for t in node.inputs]
    s = ctx.shape(node.input(0))
    if node.op == "Shape":
        return [np.asarray(s, dtype=dt)]
    if node.op == "Size":
        return [np.asarray(int(np.prod(s)), dtype=dt)]
    return [np.asarray(len(s), dtype=np.int32)]
