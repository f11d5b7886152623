"""Every difference between Keras 3 (TensorFlow 2.16+) and Keras 2 (``tf.keras`` in TensorFlow
<= 2.15) that the importer and Run meet, in one place. The rest of the package never looks at
a version.

Both expose the functional graph the same way: a symbolic tensor's ``_keras_history`` is
``(layer, node_index, tensor_index)`` and ``layer._inbound_nodes[node_index]`` the call that
produced it; only the names of a node's fields differ.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np


@functools.lru_cache(maxsize=1)
def keras():
    """The Keras that TensorFlow runs here (Keras 3 beside TensorFlow >= 2.16, or Keras 2:
    the ``keras`` package that TensorFlow 2.15 bundles as ``tf.keras``)."""
    import keras as k
    import tensorflow  # noqa: F401 - Keras 2 needs it imported first

    return k


def keras_version() -> str:
    return keras().__version__


def is_keras2() -> bool:
    return keras_version().startswith("2.")


def load_model(path: str, safe_mode: bool = True):
    k = keras()
    return k.models.load_model(path, compile=False, safe_mode=safe_mode)


def load_model_values(path: str, safe_mode: bool = True):
    """The model for conversion: under Keras 3 loaded inside a ``StatelessScope`` that leaves
    the variables uninitialized (no random initialization of every weight, which costs more
    than the conversion) and collects the loaded values instead; each variable keeps its
    value as ``_nnr_value`` (read by ``to_numpy``). The model cannot be called. Keras 2:
    ``load_model``."""
    k = keras()
    if is_keras2() or not hasattr(k, "StatelessScope"):
        return load_model(path, safe_mode)
    try:
        from keras.src.backend.common import global_state
    except ImportError:  # pragma: no cover - another Keras 3 layout
        return load_model(path, safe_mode)
    before = global_state.get_global_attribute("uninitialized_variables", None)
    before = list(before) if before else []
    created: list = []
    try:
        with k.StatelessScope(initialize_variables=False) as scope:
            model = k.models.load_model(path, compile=False, safe_mode=safe_mode)
    finally:   # the variables stay uninitialized: Keras must not initialize them later
        now = global_state.get_global_attribute("uninitialized_variables", None) or []
        created = list(now[len(before):])
        global_state.set_global_attribute("uninitialized_variables", before)
    # every variable the load created (the model's, and any a layer keeps untracked), for
    # make_runnable
    pending = {id(v): v for v in [*created, *model.variables]}
    for v in pending.values():
        val = scope.get_current_value(v)
        if val is not None:
            v._nnr_value = val
    model._nnr_uninitialized = [v for v in pending.values()
                                if getattr(v, "_value", 0) is None]
    return model


def make_runnable(model) -> None:
    """Make a model from ``load_model_values`` callable, as ``load_model`` would have loaded
    it: each variable the load left uninitialized becomes a real (TensorFlow) variable holding
    the value Keras' own loader read from the file for it; one the file has no value for is
    initialized by its initializer, as a full load leaves it. Much cheaper than loading the
    file again (no random initialization of every weight that the load then overwrites). The
    values are not kept twice: ``_nnr_value`` goes once the variable holds it (``to_numpy``
    then reads the variable). A model loaded fully (or by Keras 2) is left as it is. Call it
    under the Keras lock."""
    pending = getattr(model, "_nnr_uninitialized", None)
    if not pending:
        return
    for v in pending:
        if getattr(v, "_value", 0) is not None:   # initialized since (e.g. a shared one)
            continue
        val = getattr(v, "_nnr_value", None)
        if val is None:
            v._deferred_initialize()
        else:
            v._initialize(val)
            v._initializer = None
    for v in pending:   # only now: to_numpy reads _nnr_value, or the variable once it holds it
        if hasattr(v, "_nnr_value"):
            del v._nnr_value
    model._nnr_uninitialized = []


# -- the functional graph --------------------------------------------------------------------

def history(t) -> tuple[Any, int, int]:
    h = t._keras_history
    return h[0], int(h[1]), int(h[2])


def inbound_node(layer, index: int):
    return layer._inbound_nodes[index]


def node_inputs(node) -> list:
    """The symbolic tensors a call read, flattened in argument order."""
    if hasattr(node, "input_tensors") and not hasattr(node, "keras_inputs"):
        return list(node.input_tensors)                       # Keras 3
    return list(node.keras_inputs)                            # Keras 2


def node_outputs(node) -> list:
    if hasattr(node, "keras_inputs"):                         # Keras 2
        import tensorflow as tf

        return list(tf.nest.flatten(node.outputs))
    return list(node.output_tensors)                          # Keras 3


def node_arguments(node) -> tuple[tuple, dict]:
    """(args, kwargs) of the call, with its symbolic tensors in place."""
    if hasattr(node, "arguments"):                            # Keras 3
        return tuple(node.arguments.args), dict(node.arguments.kwargs)
    return tuple(node.call_args), dict(node.call_kwargs)     # Keras 2


def is_model(layer) -> bool:
    """A nested model (Functional / Sequential) whose graph we can walk."""
    return hasattr(layer, "layers") and hasattr(layer, "inputs") and hasattr(layer, "outputs") \
        and _has_graph(layer)


def _has_graph(model) -> bool:
    try:
        return bool(model.inputs) and bool(model.outputs)
    except (AttributeError, ValueError):
        return False


def is_layer(op) -> bool:
    """A Keras Layer (as opposed to a Keras 3 operation such as ``keras.ops.add``)."""
    k = keras()
    return isinstance(op, k.layers.Layer)


def class_key(op) -> str:
    """The registry key of a layer or operation: its class name; Keras 3 operations
    (``x + y``, ``keras.ops.relu`` in a functional model) are ``ops.<Class>``, Keras 2
    TensorFlow functions ``TFOpLambda(<symbol>)`` (as the file's config scan names them)."""
    name = type(op).__name__
    if not is_layer(op):
        return f"ops.{name}"
    if name == "TFOpLambda":            # Keras 2: a TensorFlow function, named by its symbol
        return f"TFOpLambda({getattr(op, 'symbol', '?')})"
    return name


def has_training_arg(layer) -> bool:
    return bool(getattr(layer, "_call_has_training_arg", False)
                or getattr(layer, "_expects_training_arg", False))


def weight(layer, *names: str):
    """The first of the named weight attributes that the layer has (Keras 2 and 3 name a few
    differently: DepthwiseConv2D's ``depthwise_kernel`` is Keras 3's ``kernel``)."""
    for n in names:
        v = getattr(layer, n, None)
        if v is not None:
            return v
    return None


def to_numpy(var) -> np.ndarray:
    """A variable's value as float32 (one copy out of TensorFlow)."""
    loaded = getattr(var, "_nnr_value", None)
    if loaded is not None:
        var = loaded
    elif getattr(var, "_value", 0) is None:
        raise ValueError(f"variable {getattr(var, 'path', '?')} was not loaded from the file")
    inner = getattr(var, "value", None)     # Keras 3: the backend (tf.Variable) value
    if inner is not None and not callable(inner) and hasattr(inner, "numpy"):
        var = inner
    a = var.numpy() if hasattr(var, "numpy") else np.asarray(var)
    if a.dtype != np.float32 and a.dtype.kind == "f":
        a = a.astype(np.float32)
    return a


def epsilon() -> float:
    """Keras' fuzz factor (``keras.backend.epsilon()``)."""
    return float(keras().backend.epsilon())


# -- activation semantics that changed between versions ---------------------------------------

@functools.lru_cache(maxsize=1)
def hard_sigmoid_coefficients() -> tuple[float, float]:
    """(alpha, beta) of ``hard_sigmoid`` = clip(alpha * x + beta, 0, 1): Keras 2 uses 0.2,
    Keras 3 relu6(x + 3) / 6. Measured, not guessed from a version number."""
    import tensorflow as tf

    k = keras()
    y = np.asarray(k.activations.hard_sigmoid(tf.constant([0.0, 1.0], tf.float32)))
    beta = float(y[0])
    alpha = float(y[1] - y[0])
    return round(alpha, 6) if abs(alpha - 0.2) < 1e-6 else alpha, beta
