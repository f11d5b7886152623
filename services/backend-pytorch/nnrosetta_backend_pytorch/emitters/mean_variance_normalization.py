from nnrosetta_backend_pytorch.emitters import emitter


@emitter("MeanVarianceNormalization")
def emit(e) -> None:
    """(x - mean) / (std + 1e-9) over the axes (biased variance, as ONNX)."""
    axes = [int(a) for a in e.attr("axes", [0, 2, 3])]
    dim = "[" + ", ".join(map(str, axes)) + "]"
    e.assign(f"{e.x} - {e.x}.mean(dim={dim}, keepdim=True)")
    e.assign(f"{e.out} / ({e.x}.std(dim={dim}, correction=0, keepdim=True) + 1e-9)")
