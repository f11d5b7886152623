"""nnrosetta gateway: the service clients talk to."""
