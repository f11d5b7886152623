from nnrosetta.rpc.converter import main
from nnrosetta_frontend_caffe.service import CaffeConverter

if __name__ == "__main__":
    main(CaffeConverter())
