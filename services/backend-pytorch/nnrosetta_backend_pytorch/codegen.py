"""IR graph -> readable PyTorch source (``model.py``) and its state_dict.

The generated file holds ``class Model(nn.Module)``: layers with explicit constructor arguments
in ``__init__`` (attribute names derived from IR node names, so state_dict keys read like the
source model's layers), ``forward`` in topological order with one variable per IR node output,
and module-level ``INPUTS`` / ``OUTPUTS`` lists (IR names, in forward-argument / return order).
Each op's code comes from its emitter (``nnrosetta_backend_pytorch.emitters``).
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nnrosetta.ir import registry
from nnrosetta.ir.graph import Graph, Node, make_ref, split_ref
from nnrosetta.ir.view import NodeView
from nnrosetta.pysource import doc as _doc
from nnrosetta.pysource import trunc as _trunc
from nnrosetta.pysource import wrap
from nnrosetta_backend_pytorch import emitters

MAX_IDENT = 38  # "        x = self.x(" stays within the line length

# Names a variable or layer attribute must not take.
_RESERVED = (
    set(keyword.kwlist) | set(dir(builtins))
    | {"self", "torch", "nn", "F", "INPUTS", "OUTPUTS", "Model", "Scale", "lrn_within",
       "avg_pool_exclude_pad", "l", "O", "I", "taps"}
)


def _module_attrs() -> set[str]:
    try:
        from torch import nn
    except ImportError:  # pragma: no cover - codegen needs torch only for this list
        return set()
    return set(dir(nn.Module())) | {"T_destination", "call_super_init"}


class NameTable:
    """Node names -> unique Python identifiers ("inception_3a/1x1" -> inception_3a_1x1)."""

    def __init__(self, reserved: Iterable[str] = ()):
        self.used: set[str] = set(_RESERVED) | set(reserved)

    @staticmethod
    def sanitize(name: str) -> str:
        s = re.sub(r"[^0-9A-Za-z_]+", "_", name).strip("_")
        s = re.sub(r"_+", "_", s)[:MAX_IDENT].rstrip("_")
        if not s:
            s = "node"
        if s[0].isdigit():
            s = "n" + s
        return s

    def new(self, name: str) -> str:
        base = self.sanitize(name)
        ident, i = base, 1
        while ident in self.used:
            i += 1
            ident = f"{base}_{i}"
        self.used.add(ident)
        return ident


def fmt_float(v: float) -> str:
    """Shortest literal that gives the same float32 (0.1, not 0.10000000149011612)."""
    v = float(v)
    if np.isinf(v):
        return 'float("inf")' if v > 0 else 'float("-inf")'
    s32 = str(np.float32(v))
    if float(np.float32(float(s32))) == float(np.float32(v)) and float(np.float32(v)) == v:
        s = s32
    else:
        s = repr(v)
    if "e" not in s and "." not in s and "n" not in s:
        s += ".0"
    return s


# numpy dtype name -> torch dtype attribute (the dtypes a buffer may have)
TORCH_DTYPES = {"float32": "float32", "float64": "float64", "float16": "float16",
                "int64": "int64", "int32": "int32", "int16": "int16", "int8": "int8",
                "uint8": "uint8", "bool": "bool"}


def torch_dtype(dtype: Any) -> str:
    """numpy dtype -> the name of the torch dtype ("int64" for torch.int64)."""
    name = np.dtype(dtype).name
    if name not in TORCH_DTYPES:
        raise ValueError(f"dtype {name} has no torch dtype")
    return TORCH_DTYPES[name]


def fmt_ints(v: Sequence[int]) -> str:
    """[3, 3] -> "3"; [3, 5] -> "(3, 5)" (PyTorch's int-or-tuple arguments)."""
    v = [int(x) for x in v]
    if v and all(x == v[0] for x in v):
        return str(v[0])
    return "(" + ", ".join(str(x) for x in v) + ")"


def fmt_list(v: Sequence[int]) -> str:
    return "[" + ", ".join(str(int(x)) for x in v) + "]"


@dataclass
class Layer:
    attr: str
    ctor: str
    comment: str
    buffer: bool = False  # self.register_buffer("<attr>", <ctor>) instead of an attribute


@dataclass
class Generated:
    source: str
    state: dict[str, np.ndarray]       # state_dict key -> array (in module order)
    inputs: list[str]                  # IR input names, forward-argument order
    outputs: list[str]                 # IR output refs, return order
    input_shapes: dict[str, list[int]]
    variables: dict[str, str] = field(default_factory=dict)  # IR ref -> variable name


class CodegenError(ValueError):
    def __init__(self, node: str, message: str):
        super().__init__(f"{node}: {message}")
        self.node = node
        self.message = message


class Emit(NodeView):
    """The emitter's handle on the code being generated for one node."""

    def __init__(self, gen: CodeGen, node: Node, inputs: list[str], outputs: list[str]):
        super().__init__(node, gen.graph, gen.shapes, gen.weights)
        self._gen = gen
        self.inputs = inputs
        self.outs = outputs
        self.x = inputs[0] if inputs else ""
        self.out = outputs[0]
        self.ident = gen.node_ident[node.name]

    def used(self, i: int) -> bool:
        """Whether this node's i-th output is read (by a node, as an output or a tap)."""
        return make_ref(self.name, i) in self._gen.used

    def layer(self, ctor: str, params: Mapping[str, np.ndarray] | None = None,
              suffix: str = "") -> str:
        """Add ``self.<ident> = <ctor>`` to __init__; params become "<ident>.<key>" entries of
        the state_dict. Returns "self.<ident>"."""
        attr = self.ident if not suffix else self._gen.names.new(f"{self.ident}_{suffix}")
        comment = f"{self.name} ({self.node.op})" if self.name != attr else ""
        self._gen.layers.append(Layer(attr, ctor, comment))
        for k, v in (params or {}).items():
            self._gen.state[f"{attr}.{k}"] = v
        return f"self.{attr}"

    def parameter(self, value: np.ndarray, suffix: str) -> str:
        """Add ``self.<ident>_<suffix> = nn.Parameter(torch.zeros(shape))`` to __init__ (a
        trainable tensor used in a functional call); ``value`` becomes its state_dict entry.
        Returns "self.<ident>_<suffix>"."""
        attr = self._gen.names.new(f"{self.ident}_{suffix}")
        comment = f"{self.name} ({self.node.op}) {suffix}"
        dtype = torch_dtype(value.dtype)
        extra = "" if dtype == "float32" else f", dtype=torch.{dtype}"
        self._gen.layers.append(Layer(
            attr, f"nn.Parameter(torch.zeros({fmt_list(value.shape)}{extra}))", comment))
        self._gen.state[attr] = value
        return f"self.{attr}"

    def param(self, role: str, shape: Sequence[int] | None = None) -> str | None:
        """Weight ``role`` as an expression for a functional call: the input variable when it
        is computed at run time (``.reshape(shape)`` when a shape is given), else a trainable
        ``nn.Parameter`` holding the stored tensor; None when the node has no such weight."""
        if self.dynamic(role):
            v = self.inputs[self.bound_index(role)]
            have = self.param_shape(role)
            if shape is not None and have is not None and -1 in shape:
                known = int(np.prod([d for d in shape if d != -1], dtype=np.int64)) or 1
                shape = [int(np.prod(have, dtype=np.int64)) // known if d == -1 else int(d)
                         for d in shape]
            if shape is not None and tuple(have or ()) != tuple(shape):
                v = f"{v}.reshape({', '.join(str(int(d)) for d in shape)})"
            return v
        w = self.weight(role)
        if w is None:
            return None
        if shape is not None:
            w = w.reshape(tuple(shape))
        return self.parameter(w, role)

    def buffer(self, value: np.ndarray, suffix: str = "") -> str:
        """Add ``self.register_buffer("<ident>", torch.zeros(shape, dtype=...))`` to __init__;
        ``value`` becomes the state_dict entry "<ident>" (saved with the weights, moved by
        ``.to()``, never trained). Returns "self.<ident>"."""
        attr = self.ident if not suffix else self._gen.names.new(f"{self.ident}_{suffix}")
        comment = f"{self.name} ({self.node.op})" if self.name != attr else ""
        dtype = torch_dtype(value.dtype)
        ctor = f"torch.zeros({fmt_list(value.shape)}, dtype=torch.{dtype})"
        self._gen.layers.append(Layer(attr, ctor, comment, buffer=True))
        self._gen.state[attr] = value
        return f"self.{attr}"

    def assign(self, expr: str, out: str | None = None) -> None:
        self.line(f"{out or self.out} = {expr}")

    def line(self, src: str) -> None:
        self._gen.forward.extend(wrap(src, "        "))

    def helper(self, name: str) -> str:
        self._gen.helpers.add(name)
        return name


# -- helpers that generated files may include -------------------------------------------------
HELPERS = {
    "lrn_within": '''
def lrn_within(x: torch.Tensor, size: int, alpha: float, beta: float,
               bias: float) -> torch.Tensor:
    """LRN within each channel (Caffe WITHIN_CHANNEL):
    x / (bias + alpha * mean of x^2 over a size x size window, zero padded) ** beta."""
    before, after = (size - 1) // 2, size // 2
    squares = F.pad(x * x, [before, after, before, after])
    return x / (bias + alpha * F.avg_pool2d(squares, size, stride=1)) ** beta
''',
    "avg_pool_exclude_pad": '''
def avg_pool_exclude_pad(x: torch.Tensor, kernel_size: list[int], stride: list[int],
                         pads: list[int], ceil_mode: bool) -> torch.Tensor:
    """Average pooling with any (asymmetric) zero padding [left, right, top, bottom] that
    divides by the number of real input elements in each window (padding not counted)."""
    ones = torch.ones_like(x[:1, :1])
    total = F.avg_pool2d(F.pad(x, pads), kernel_size, stride, ceil_mode=ceil_mode,
                         divisor_override=1)
    count = F.avg_pool2d(F.pad(ones, pads), kernel_size, stride, ceil_mode=ceil_mode,
                         divisor_override=1)
    return total / count
''',
    "Scale": '''
class Scale(nn.Module):
    """Per-channel scale (and bias), Caffe's Scale layer: y = x * weight + bias.

    ``shape`` is the parameters' shape, already laid out to broadcast against the input
    (e.g. (C, 1, 1) for an NCHW input scaled per channel)."""

    def __init__(self, shape: tuple[int, ...], bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(shape))
        if bias:
            self.bias = nn.Parameter(torch.zeros(shape))
        else:
            self.register_parameter("bias", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y
''',
}


def problems(graph: Graph) -> list[tuple[str, str, str]]:
    """(node, op, message) for every node the backend cannot emit, all at once."""
    shapes = registry.shapes_or_annotations(graph)
    out: list[tuple[str, str, str]] = []
    for n in graph.nodes:
        em = emitters.get(n.op)
        if em is None or not registry.has(n.op):
            why = "is not an IR op" if not registry.has(n.op) else "has no PyTorch emitter"
            out.append((n.name, n.op, f"op {n.op!r} {why}; backend-pytorch cannot emit it"))
            continue
        if em.check is not None:
            for msg in em.check(NodeView(n, graph, shapes)):
                out.append((n.name, n.op, msg))
    return out


class CodeGen:
    def __init__(self, graph: Graph, weights: Mapping[str, np.ndarray],
                 taps: Sequence[str] = ()):
        self.graph = graph.toposorted()
        self.weights = weights
        self.taps = list(taps)
        self.shapes = registry.shapes_or_annotations(self.graph)
        self.names = NameTable(_module_attrs())
        self.node_ident: dict[str, str] = {}
        self.layers: list[Layer] = []
        self.state: dict[str, np.ndarray] = {}
        self.forward: list[str] = []
        self.helpers: set[str] = set()
        self.vars: dict[str, str] = {}
        self.pruned: list[str] = []    # nodes no output (or tap) depends on: not emitted
        self.used: set[str] = set()    # refs something reads

    def generate(self) -> Generated:
        g = self.graph
        outputs = g.output_refs()
        tap_set = {make_ref(*split_ref(r)) for r in self.taps}
        input_nodes = g.inputs
        live = g.live_nodes([*outputs, *self.taps])
        self.pruned = [n.name for n in g.nodes if n.name not in live and n.op != "Input"]
        self.used = {make_ref(*split_ref(r)) for n in g.nodes if n.name in live
                     for r in n.inputs} | {make_ref(*split_ref(r)) for r in outputs} | tap_set
        for n in g.nodes:
            if n.name in live or n.op == "Input":
                self.node_ident[n.name] = self.names.new(n.name)
        args = []
        for n in input_nodes:
            self.vars[n.name] = self.node_ident[n.name]
            args.append(self.node_ident[n.name])
        for n in input_nodes:
            if n.name in tap_set:
                self.forward.append(f'        self.taps["{_q(n.name)}"] = {self.vars[n.name]}')
        for n in g.nodes:
            if n.op == "Input" or n.name not in live:
                continue
            em = emitters.get(n.op)
            if em is None:
                raise CodegenError(n.name, f"op {n.op!r} has no PyTorch emitter")
            try:
                ins = [self._var(r, n) for r in n.inputs]
            except KeyError as e:
                raise CodegenError(n.name, f"input {e} is not computed before it") from e
            count = registry.output_count(n)
            ident = self.node_ident[n.name]
            outs = [ident] if count == 1 else [self.names.new(f"{ident}_{i}")
                                               for i in range(count)]
            for i, v in enumerate(outs):
                self.vars[make_ref(n.name, i)] = v
            src = n.attrs.get("_source_name")
            if n.name != ident or (isinstance(src, str) and src and src != n.name):
                head = f"        # {n.name} ({n.op})"
                if isinstance(src, str) and src and src != n.name:
                    head += f", source layer {src}"
                self.forward.append(_trunc(_doc(head)))
            try:
                em.emit(Emit(self, n, ins, outs))
            except CodegenError:
                raise
            except Exception as e:
                raise CodegenError(n.name, f"cannot emit {n.op}: {e}") from e
            for i, v in enumerate(outs):
                ref = make_ref(n.name, i)
                if ref in tap_set:
                    self.forward.append(f'        self.taps["{_q(ref)}"] = {v}')
        missing = [r for r in outputs if make_ref(*split_ref(r)) not in self.vars]
        if missing:
            raise CodegenError("<graph>", f"outputs {missing} are not produced")
        rets = [self.vars[make_ref(*split_ref(r))] for r in outputs]
        if len(rets) == 1:
            self.forward.extend(wrap(f"return {rets[0]}", "        "))
        else:
            self.forward.extend(wrap("return (" + ", ".join(rets) + ")", "        "))
        input_shapes = {n.name: [int(d) for d in n.attrs.get("shape", [])] for n in input_nodes}
        src = self._render(args, [n.name for n in input_nodes], outputs, input_shapes)
        return Generated(src, self.state, [n.name for n in input_nodes], outputs,
                         input_shapes, dict(self.vars))

    def _var(self, ref: str, node: Node) -> str:
        key = make_ref(*split_ref(ref))
        return self.vars[key]

    def _render(self, args: list[str], inputs: list[str], outputs: list[str],
                input_shapes: dict[str, list[int]]) -> str:
        md = self.graph.metadata
        lines = ['"""PyTorch model generated by nnrosetta backend-pytorch from nnrosetta IR.',
                 ""]
        if md:
            lines.append("Converted from:")
            for k in sorted(md):
                lines.append(_trunc(f"    {k}: {_doc(md[k])}"))
        else:
            lines.append("Converted from: an IR graph without metadata.")
        lines.append(f"IR opset {self.graph.opset_version}, {len(self.graph.nodes)} nodes.")
        if self.pruned:
            lines.append(_trunc(f"Left out {len(self.pruned)} node(s) no output depends on: "
                                + _doc(", ".join(self.pruned))))
        lines += ["", "Load it (the weights are a plain state_dict of tensors):", "",
                  "    import torch", "", "    from model import Model", "",
                  "    model = Model()",
                  '    model.load_state_dict(torch.load("weights.pth", weights_only=True))',
                  "    model.eval()  # model.train() to fine-tune: Dropout and BatchNorm train"]
        call = ", ".join(args)
        lines.append(_trunc(f"    outputs = model({call})"))
        lines.append("")
        lines.append("Inputs (forward arguments, in order):")
        for name, arg in zip(inputs, args, strict=True):
            lines.append(_trunc(f"    {arg}: {_doc(name)} {input_shapes.get(name)}"))
        lines.append("Outputs (" + ("a tuple, in order" if len(outputs) > 1 else "a tensor")
                     + "): " + _doc(", ".join(outputs)))
        lines[-1] = _trunc(lines[-1])
        lines.append('"""')
        body = "\n".join(lines[:1] + [_trunc(x) for x in lines[1:]]) + "\n\n"
        body_code = "\n".join(self.forward)
        helper_src = "".join(HELPERS[h] + "\n" for h in sorted(self.helpers))
        init = ["        super().__init__()"]
        if self.taps:
            init.append("        # values of the fetched IR nodes, recorded by forward")
            init.append("        self.taps: dict[str, torch.Tensor] = {}")
        for layer in self.layers:
            if layer.comment:
                init.append(_trunc(f"        # {layer.comment}"))
            if layer.buffer:
                init.extend(wrap(f'self.register_buffer("{layer.attr}", {layer.ctor})',
                                 "        "))
            else:
                init.extend(wrap(f"self.{layer.attr} = {layer.ctor}", "        "))
        everything = helper_src + "\n".join(init) + body_code
        imports = []
        if "torch." in everything or "torch.Tensor" in everything:
            imports.append("import torch")
        if re.search(r"\bF\.", everything):
            imports.append("import torch.nn.functional as F")
        imports.append("from torch import nn")
        out = body + "\n".join(imports) + "\n\n"
        out += wrap_assign("INPUTS", inputs) + wrap_assign("OUTPUTS", outputs)
        out += "\n" + helper_src + "\n" if helper_src else "\n\n"
        out += "class Model(nn.Module):\n"
        out += '    """' + _doc(_trunc(
            f"{md.get('framework', 'IR')} model {md.get('name', '')}".strip(), 80)) + '."""\n\n'
        out += "    def __init__(self):\n" + "\n".join(init) + "\n\n"
        sig = f"def forward(self, {call}):" if call else "def forward(self):"
        out += "\n".join(wrap(sig, "    ")) + "\n" + body_code + "\n"
        return out


def wrap_assign(name: str, items: Sequence[str]) -> str:
    text = f"{name} = [" + ", ".join(f'"{_q(x)}"' for x in items) + "]"
    return "\n".join(wrap(text, "")) + "\n"


def _q(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"')


def generate(graph: Graph, weights: Mapping[str, np.ndarray], taps: Sequence[str] = (),
             ) -> Generated:
    return CodeGen(graph, weights, taps).generate()
