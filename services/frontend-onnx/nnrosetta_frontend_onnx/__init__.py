"""nnrosetta frontend-onnx: ONNX -> IR, Run on onnxruntime."""

from nnrosetta_frontend_onnx.service import OnnxConverter

__all__ = ["OnnxConverter"]
