"""nnrosetta frontend-caffe: Caffe (prototxt + caffemodel) -> IR; runs Caffe models with
OpenCV's dnn module as an independent runtime."""

from nnrosetta_frontend_caffe.service import CaffeConverter

__all__ = ["CaffeConverter"]
