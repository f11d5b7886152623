from nnrosetta_backend_pytorch.emitters import emitter


@emitter("Cast")
def emit(e) -> None:
    """``x.to(torch.<dtype>)``; the IR dtype names are torch's (float32, bool, int64, int32)."""
    e.assign(f"{e.x}.to(torch.{e.attr('to')})")
