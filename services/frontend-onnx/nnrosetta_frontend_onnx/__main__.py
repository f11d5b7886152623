from nnrosetta.rpc.converter import main
from nnrosetta_frontend_onnx.service import OnnxConverter

if __name__ == "__main__":
    main(OnnxConverter())
