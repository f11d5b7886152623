"""nnrosetta backend-tf: IR -> readable Keras 3 code (``model.py``), ``model.weights.h5``,
``model.keras`` and a TensorFlow SavedModel, plus Run in TensorFlow for verification."""

from nnrosetta_backend_tf.service import TensorFlowBackend

__all__ = ["TensorFlowBackend"]
