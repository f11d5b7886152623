"""``python -m nnrosetta_backend_tf``: start the service (PORT from the environment)."""

from nnrosetta.rpc.converter import main
from nnrosetta_backend_tf.service import TensorFlowBackend

if __name__ == "__main__":
    main(TensorFlowBackend())
