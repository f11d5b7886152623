"""One IR op per module; each registers itself with ``nnrosetta.ir.registry.op``."""
