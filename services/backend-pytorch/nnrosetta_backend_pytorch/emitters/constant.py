from nnrosetta_backend_pytorch.codegen import TORCH_DTYPES
from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    if not c.has_weight("value"):
        return ["weight 'value' is missing"]
    t = c.graph.tensors[c.graph.weight_names(c.node)["value"]]
    if t.dtype not in TORCH_DTYPES:
        return [f"constant dtype {t.dtype}: no torch dtype (use one of {sorted(TORCH_DTYPES)})"]
    return []


@emitter("Constant", check=check)
def emit(e) -> None:
    """A registered buffer of Model: in the state_dict, loaded with the weights."""
    e.assign(e.buffer(e.weight("value")))
