"""Random-weight keras.applications models (ResNet50, InceptionV3, MobileNetV2, VGG16,
DenseNet121) saved in every Keras / TensorFlow format the TF frontends read: see models.py."""
