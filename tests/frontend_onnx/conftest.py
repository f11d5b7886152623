"""Make the service package importable when it is not installed in the running venv."""

import sys
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[2] / "services" / "frontend-onnx"
if str(SERVICE) not in sys.path:
    sys.path.insert(0, str(SERVICE))
