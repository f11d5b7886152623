"""A loaded Keras model as a flat list of layer calls in topological order: nested models
(Functional, Sequential) are opened up, their inputs wired to the outer tensors that feed
them. Both the importer and Run (which executes the calls one by one with Keras, to read
intermediate outputs by layer name) use this one walk, so names always agree."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nnrosetta_frontend_tf import compat


@dataclass
class Call:
    layer: Any                 # the Keras layer / operation
    key: str                   # registry key (class name, "ops.<Class>")
    name: str                  # source name: "outer/inner" inside nested models; "@k" for the
                               # k-th extra call of a shared layer
    inputs: list[int]          # value keys read (flattened argument order)
    outputs: list[int]         # value keys written
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    tensors: dict[int, int] = field(default_factory=dict)   # id(symbolic input) -> value key


@dataclass
class InputDecl:
    key: int                   # value key
    name: str                  # the InputLayer's name
    shape: tuple               # Keras shape (None for free dims)
    dtype: str


@dataclass
class Walk:
    inputs: list[InputDecl]
    calls: list[Call]
    outputs: list[int]                     # value keys of the model outputs
    output_names: list[str]                # source name of each output (the producing call)
    consumers: dict[int, list[Call]] = field(default_factory=dict)
    producer: dict[int, Call] = field(default_factory=dict)
    keep: list = field(default_factory=list)   # keeps the symbolic tensors (their ids) alive


class WalkError(Exception):
    pass


def walk(model) -> Walk:
    if not compat.is_model(model):
        raise WalkError("the model has no functional graph (a subclassed Model, or a "
                        "Sequential model never built with an input shape); build it with "
                        "keras.Input(...) and save it again")
    w = Walk([], [], [], [])
    alias: dict[int, int] = {}          # id(symbolic tensor) -> value key
    names_used: dict[int, int] = {}     # id(layer) -> calls so far

    def key_of(t) -> int:
        k = id(t)
        return alias.get(k, k)

    for t in model.inputs:
        w.keep.append(t)
        layer, _, _ = compat.history(t)
        shape = tuple(None if d is None else int(d) for d in t.shape)
        dt = getattr(t, "dtype", "float32")
        dt = getattr(dt, "name", dt)
        w.inputs.append(InputDecl(id(t), layer.name, shape, str(dt)))

    def visit_model(m, prefix: str, in_keys: list[int] | None) -> list[int]:
        if in_keys is not None:
            inner = list(m.inputs)
            if len(inner) != len(in_keys):
                raise WalkError(f"nested model {m.name!r} takes {len(inner)} inputs, is called "
                                f"with {len(in_keys)}")
            for t, k in zip(inner, in_keys, strict=True):
                w.keep.append(t)
                alias[id(t)] = k
        outs = []
        for t in m.outputs:
            outs.append(visit(t, prefix))
        return outs

    done: set[int] = {d.key for d in w.inputs}

    def visit(t, prefix: str) -> int:
        # iterative post-order DFS (deep models would overflow recursion)
        stack = [(t, prefix, False)]
        while stack:
            cur, pre, expanded = stack.pop()
            k = key_of(cur)
            if k in done:
                continue
            op, ni, _ = compat.history(cur)
            node = compat.inbound_node(op, ni)
            ins = compat.node_inputs(node)
            if not ins and compat.class_key(op) == "InputLayer":
                raise WalkError(f"tensor {getattr(cur, 'name', '?')!r} comes from input "
                                f"{op.name!r}, which is not an input of the model")
            pending = [x for x in ins if key_of(x) not in done]
            if pending and not expanded:
                stack.append((cur, pre, True))
                stack.extend((x, pre, False) for x in reversed(pending))
                continue
            if pending:
                raise WalkError(f"cycle at layer {op.name!r}")
            in_keys = [key_of(x) for x in ins]
            outs = compat.node_outputs(node)
            if compat.is_model(op):
                inner_outs = visit_model(op, f"{pre}{op.name}/", in_keys)
                if len(inner_outs) != len(outs):
                    raise WalkError(f"nested model {op.name!r}: {len(inner_outs)} outputs "
                                    f"inside, {len(outs)} outside")
                for o, ik in zip(outs, inner_outs, strict=True):
                    w.keep.append(o)
                    alias[id(o)] = ik
                    done.add(ik)
                continue
            n = names_used.get(id(op), 0)
            names_used[id(op)] = n + 1
            name = f"{pre}{op.name}" + (f"@{n}" if n else "")
            args, kwargs = compat.node_arguments(node)
            call = Call(op, compat.class_key(op), name, in_keys, [id(o) for o in outs],
                        args, kwargs, {id(x): key_of(x) for x in ins})
            w.keep.extend(outs)
            w.keep.extend(ins)
            for o in outs:
                done.add(id(o))
                w.producer[id(o)] = call
            for ik in in_keys:
                w.consumers.setdefault(ik, []).append(call)
            w.calls.append(call)
        return key_of(t)

    w.outputs = visit_model(model, "", None)
    for k in w.outputs:
        c = w.producer.get(k)
        w.output_names.append(c.name if c is not None else
                              next((d.name for d in w.inputs if d.key == k), "?"))
    return w
