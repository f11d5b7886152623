"""``python -m nnrosetta_backend_pytorch``: start the service (PORT from the environment)."""

from nnrosetta.rpc.converter import main
from nnrosetta_backend_pytorch.service import PyTorchBackend

if __name__ == "__main__":
    main(PyTorchBackend())
