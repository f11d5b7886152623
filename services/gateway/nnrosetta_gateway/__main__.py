from nnrosetta_gateway.service import main

main()
