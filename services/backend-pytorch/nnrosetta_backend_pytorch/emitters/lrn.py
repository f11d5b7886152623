from nnrosetta_backend_pytorch.codegen import fmt_float
from nnrosetta_backend_pytorch.emitters import emitter


def check(c) -> list[str]:
    size = c.attr("size")
    if not isinstance(size, int) or size < 1:
        return [f"size {size!r} must be a positive int"]
    if c.attr("region", "across") not in ("across", "within"):
        return [f"region {c.attr('region')!r} is not across or within"]
    return []


@emitter("LRN", check=check)
def emit(e) -> None:
    size = int(e.attr("size"))
    alpha, beta, bias = (fmt_float(e.attr(k, d)) for k, d in
                         (("alpha", 1e-4), ("beta", 0.75), ("bias", 1.0)))
    if e.attr("region", "across") == "across":
        layer = e.layer(f"nn.LocalResponseNorm({size}, alpha={alpha}, beta={beta}, k={bias})")
        e.assign(f"{layer}({e.x})")
    else:
        fn = e.helper("lrn_within")
        e.assign(f"{fn}({e.x}, {size}, alpha={alpha}, beta={beta}, bias={bias})")
