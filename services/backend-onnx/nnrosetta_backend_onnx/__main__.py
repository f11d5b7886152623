"""``python -m nnrosetta_backend_onnx``: start the service (PORT from the environment)."""

from nnrosetta.rpc.converter import main
from nnrosetta_backend_onnx.service import OnnxBackend

if __name__ == "__main__":
    main(OnnxBackend())
