"""nnrosetta frontend-tf-legacy: frontend-tf's code (nnrosetta_frontend_tf) run under
TensorFlow 2.15 and its bundled Keras 2, for files Keras 3 cannot read (legacy .h5,
Keras-2 SavedModels). Only the pinned environment differs."""
