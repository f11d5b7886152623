"""ONNX's backend node tests (float32 ones) run through nnrosetta: the measure of ONNX coverage.

harness.py loads and runs them, generate.py writes expected.json and docs/onnx-conformance.md,
test_conformance.py holds the suite to expected.json."""
