"""docs/ops.md is generated from the registry and must not drift."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nnrosetta.ir import docs, registry


def test_ops_md_is_up_to_date():
    r = subprocess.run([sys.executable, "-m", "nnrosetta.ir.docs", "--check"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr + "\n(regenerate: python -m nnrosetta.ir.docs)"


def test_check_detects_drift(tmp_path):
    out = tmp_path / "ops.md"
    assert docs.main(["--check", "--output", str(out)]) == 1       # missing
    assert docs.main(["--output", str(out)]) == 0
    assert docs.main(["--check", "--output", str(out)]) == 0
    out.write_text(out.read_text() + "\nhand edit\n")
    assert docs.main(["--check", "--output", str(out)]) == 1


def test_render_covers_every_op():
    text = docs.render()
    for name, schema in registry.all_ops().items():
        assert f"\n## {name}\n" in text
        assert f"| [{name}](#{name.lower()}) |" in text
        for attr in schema.attrs:
            assert f"`{attr}`" in text
    assert "`kernel_shape`: ints (required)" in text
    assert '`mode`: str ("max" \\| "avg") (required)' in text
    assert "`weight`, `bias`?" in text


def test_support_table():
    table = docs.support_table({"pytorch": {"Conv", "Relu"}, "caffe|x": {"Relu"}})
    lines = table.strip().splitlines()
    assert lines[0] == "| op | pytorch | caffe\\|x |"
    assert lines[1] == "|---|:-:|:-:|"
    rows = {ln.split(" | ")[0][2:]: ln for ln in lines[2:]}
    assert set(rows) == set(registry.all_ops())
    assert rows["Conv"] == "| Conv | ✓ | — |"
    assert rows["Relu"] == "| Relu | ✓ | ✓ |"
    assert rows["Pool"] == "| Pool | — | — |"
    with pytest.raises(ValueError, match="NotAnOp"):
        docs.support_table({"x": {"NotAnOp"}})
    assert "## Support" in docs.render(support={"pytorch": {"Conv"}})
