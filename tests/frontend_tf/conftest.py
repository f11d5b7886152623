"""Make the service package importable when it is not installed in the running venv, and
keep TensorFlow quiet and single-threaded enough for a shared machine."""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")

SERVICE = Path(__file__).resolve().parents[2] / "services" / "frontend-tf"
if str(SERVICE) not in sys.path:
    sys.path.insert(0, str(SERVICE))


def pytest_configure(config):
    # TensorFlow 2.21's tensors with NumPy 2 warn on every np.array(tensor) inside Keras
    config.addinivalue_line(
        "filterwarnings",
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
