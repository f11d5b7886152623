"""nnrosetta: convert trained models between deep-learning frameworks through one IR."""

__version__ = "0.1.0"
