"""nnrosetta frontend-tf: TensorFlow / Keras models -> IR (Keras layers through
``keras_import``, TensorFlow graphs through ``graph``); runs them with TensorFlow."""

from nnrosetta_frontend_tf.service import TFConverter

__all__ = ["TFConverter"]
