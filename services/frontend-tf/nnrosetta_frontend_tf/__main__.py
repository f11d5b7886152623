from nnrosetta.rpc.converter import main
from nnrosetta_frontend_tf.service import TFConverter

if __name__ == "__main__":
    main(TFConverter())
