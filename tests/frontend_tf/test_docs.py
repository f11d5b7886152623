"""docs/keras-layers.md is generated from the layer registry and must not drift."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_keras_layers_doc_is_current():
    env = {**os.environ, "PYTHONPATH": str(ROOT / "services" / "frontend-tf"),
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    r = subprocess.run([sys.executable, "-m", "nnrosetta_frontend_tf.docs", "--check"],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr + "\n(regenerate: python -m nnrosetta_frontend_tf.docs)"


def test_check_detects_drift(tmp_path):
    from nnrosetta_frontend_tf import docs

    out = tmp_path / "k.md"
    assert docs.main(["--check", "--output", str(out)]) == 1       # missing
    assert docs.main(["--output", str(out)]) == 0
    assert docs.main(["--check", "--output", str(out)]) == 0
    out.write_text(out.read_text() + "x")
    assert docs.main(["--check", "--output", str(out)]) == 1


def test_every_registered_layer_is_documented():
    from nnrosetta_frontend_tf import docs
    from nnrosetta_frontend_tf.layers import all_layers

    text = docs.render()
    for key, imp in all_layers().items():
        assert f"| `{key}` |" in text
        assert imp.fn.__doc__, f"importer of {key} has no docstring"
