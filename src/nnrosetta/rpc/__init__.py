"""gRPC plumbing shared by every nnrosetta service."""
