"""Running (parts of) a GraphDef with TensorFlow: the constant folder and ``run_graph``.

Only graphs made of the user's own TF ops run here (no Python code is ever loaded); the
constant folder runs only subgraphs of allow-listed, side-effect-free ops on Const inputs.
Grappler is off: it would spend seconds re-folding big constants, and the kernels that
compute the values are the same."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from nnrosetta_frontend_tf.graph.load import data_inputs, topo_order
from nnrosetta_frontend_tf.graph.ops._base import op_of


def session_config() -> Any:
    import tensorflow as tf

    cfg = tf.compat.v1.ConfigProto()
    cfg.graph_options.rewrite_options.disable_meta_optimizer = True
    cfg.graph_options.optimizer_options.opt_level = tf.compat.v1.OptimizerOptions.L0
    cfg.graph_options.optimizer_options.do_constant_folding = False
    return cfg


def run(graph_def: Any, feeds: Mapping[str, np.ndarray], fetch: Sequence[str]) -> list[np.ndarray]:
    """Values of the tensors ``fetch`` with ``feeds`` (tensor name -> array) fed."""
    import tensorflow as tf

    g = tf.Graph()
    with g.as_default():
        tf.graph_util.import_graph_def(graph_def, name="")
    with tf.compat.v1.Session(graph=g, config=session_config()) as s:
        out = s.run(list(fetch), feed_dict=dict(feeds))
    return [np.asarray(o) for o in out]


def subgraph(graph_def: Any, fetch: Sequence[str]) -> Any:
    """The nodes ``fetch`` needs (control inputs dropped), with the function library."""
    import tensorflow as tf

    nodes = {nd.name: nd for nd in graph_def.node}
    keep = topo_order(nodes, [op_of(t) for t in fetch])
    gd = tf.compat.v1.GraphDef()
    gd.versions.CopyFrom(graph_def.versions)
    if graph_def.HasField("library"):
        gd.library.CopyFrom(graph_def.library)
    for name in keep:
        nd = gd.node.add()
        nd.CopyFrom(nodes[name])
        del nd.input[:]
        nd.input.extend(data_inputs(nodes[name]))
    return gd


def evaluate_constants(graph_def: Any, fetch: Sequence[str]) -> dict[str, np.ndarray | Exception]:
    """Values of constant tensors (their subgraph has no Placeholder): in one run, else one
    by one so that a failure names its tensor."""
    if not fetch:
        return {}
    gd = subgraph(graph_def, fetch)
    try:
        return dict(zip(fetch, run(gd, {}, fetch), strict=True))
    except Exception:  # noqa: BLE001 - retried one by one below
        pass
    out: dict[str, np.ndarray | Exception] = {}
    for t in fetch:
        try:
            out[t] = run(subgraph(graph_def, [t]), {}, [t])[0]
        except Exception as e:  # noqa: BLE001 - reported by the caller
            out[t] = e
    return out


def fold_node(nd: Any, values: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The outputs of one node given constant inputs (each output it has)."""
    import tensorflow as tf
    from tensorflow.python.framework import tensor_util

    gd = tf.compat.v1.GraphDef()
    names = []
    for k, v in enumerate(values):
        c = gd.node.add(name=f"nnr_fold_in{k}", op="Const")
        arr = np.asarray(v)
        c.attr["value"].tensor.CopyFrom(tensor_util.make_tensor_proto(arr))
        c.attr["dtype"].type = tf.as_dtype(arr.dtype).as_datatype_enum
        names.append(f"nnr_fold_in{k}")
    n = gd.node.add()
    n.CopyFrom(nd)
    del n.input[:]
    n.input.extend(names)
    g = tf.Graph()
    with g.as_default():
        tf.graph_util.import_graph_def(gd, name="")
        op = g.get_operation_by_name(nd.name)
        outs = list(op.outputs)
    with tf.compat.v1.Session(graph=g, config=session_config()) as s:
        vals = s.run(outs)
    return [np.asarray(v) for v in vals]
