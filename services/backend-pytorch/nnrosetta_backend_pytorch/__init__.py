"""nnrosetta backend-pytorch: IR -> a readable PyTorch ``model.py``, ``weights.pth`` and a
TorchScript file, plus Run in PyTorch for verification."""

from nnrosetta_backend_pytorch.service import PyTorchBackend

__all__ = ["PyTorchBackend"]
