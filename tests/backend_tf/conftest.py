"""backend-tf tests run in /work/main/.venv (it has TensorFlow and Keras); the service package
is imported from its source folder. TensorFlow is imported once per session (slow)."""

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SERVICE = Path(__file__).resolve().parents[2] / "services" / "backend-tf"
if str(SERVICE) not in sys.path:
    sys.path.insert(0, str(SERVICE))


def pytest_configure(config):
    # Keras 3.15 saving calls np.array(tf_variable), which NumPy 2 reports each time
    config.addinivalue_line("filterwarnings", "ignore:__array__ implementation doesn't accept "
                            "a copy:DeprecationWarning")


@pytest.fixture(scope="session")
def backend():
    """The Converter, loaded (TensorFlow and Keras imported) once."""
    from nnrosetta_backend_tf import TensorFlowBackend

    b = TensorFlowBackend()
    b.load()
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")   # grouped convolutions retrace their XLA function
    return b
