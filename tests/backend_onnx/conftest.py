"""backend-onnx tests run in /work/main/.venv (it has onnx and onnxruntime); the service
package is imported from its source folder."""

import sys
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[2] / "services" / "backend-onnx"
if str(SERVICE) not in sys.path:
    sys.path.insert(0, str(SERVICE))
