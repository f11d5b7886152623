"""nnrosetta backend-onnx: IR graphs -> standard ONNX models (model.onnx, model.txt), and Run
with onnxruntime (CPU)."""

__version__ = "0.1.0"
