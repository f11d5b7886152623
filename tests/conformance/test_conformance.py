"""ONNX's float32 backend node tests, both ways, held to tests/conformance/expected.json.

Expected passes must pass. Expected failures are strict xfails that must fail for the recorded
kind of reason (harness.KINDS): a test that starts passing (XPASS strict) or fails differently
fails here until ``python -m tests.conformance.generate`` rewrites the expectations (and the
docs table). A service package that does not import fails every test that needs it.

Everything loads once: the test cases (about 5 s), the three Converters; each test's IR is
shared by its two ways.
"""

from __future__ import annotations

import onnx
import pytest

from tests.conformance import generate as G
from tests.conformance import harness as H

EXPECTED = G.load_expected()
TESTS = EXPECTED.get("tests", {})


class NotConformant(AssertionError):
    """The recorded (expected) failure: the only exception the xfail marks accept."""


def _params() -> list:
    out = []
    for name, entry in TESTS.items():
        for way in H.WAYS:
            label = entry.get(way, "harness: missing")
            marks = [] if label == "pass" else [pytest.mark.xfail(
                strict=True, reason=label, raises=NotConformant)]
            out.append(pytest.param(name, way, id=f"{name}-{way}", marks=marks))
    return out


@pytest.fixture(scope="module")
def harness():
    with H.Harness() as h:
        yield h


def test_expectations_exist():
    assert TESTS, ("tests/conformance/expected.json is missing or empty: run "
                   "PYTHONPATH=. .venv/bin/python -m tests.conformance.generate")


def test_float32_node_tests_are_the_expected_ones():
    """onnx 1.23.2 has 751 float32 node tests, and expected.json lists exactly those."""
    cases = H.load_cases()
    assert onnx.__version__ == H.ONNX_VERSION
    assert len(cases) == H.EXPECTED_COUNT == EXPECTED.get("count")
    missing = sorted({c.name for c in cases} - set(TESTS))
    extra = sorted(set(TESTS) - {c.name for c in cases})
    assert not missing and not extra, f"regenerate expected.json: missing {missing[:10]}, " \
                                      f"extra {extra[:10]}"


def test_docs_table_is_current():
    text = G.render(EXPECTED)
    assert G.DOCS.is_file() and G.DOCS.read_text() == text, \
        "docs/onnx-conformance.md is stale: python -m tests.conformance.generate --docs"


@pytest.mark.parametrize(("name", "way"), _params())
def test_node(harness, name, way):
    expected = TESTS[name][way]
    case = H.cases_by_name()[name]
    got = harness.run(case, way)            # H.Unavailable (a missing service) fails loudly
    if got.passed:
        return                              # an expected failure that passes: XPASS(strict)
    if expected == "pass":
        pytest.fail(f"{name} ({H.WAY_TITLES[way]}) {got.label}", pytrace=False)
    if H.label_kind(expected) != got.kind:
        pytest.fail(f"{name} ({H.WAY_TITLES[way]}) was expected to fail with "
                    f"{expected!r}, now fails with {got.label!r}: rerun "
                    "python -m tests.conformance.generate", pytrace=False)
    raise NotConformant(got.label)


def test_unclaimed_ops_are_reported_unsupported():
    """Every (not expanded) test of an op frontend-onnx does not claim is recorded as
    unsupported, naming the op: never a silent skip, never a pass."""
    claimed = set(EXPECTED.get("frontend_ops", []))
    wrong = []
    for name, e in TESTS.items():
        if "_expanded" in name or e["op"] in claimed:
            continue
        for way in H.WAYS:
            if H.label_kind(e[way]) != "unsupported" or e["op"] not in e[way]:
                wrong.append(f"{name} {way}: {e[way]}")
    assert not wrong, wrong[:20]


def test_an_op_outside_the_ir_is_named_by_check(harness, tmp_path):
    """A model with an op no IR op expresses (Det; and one from an unknown domain): Check lists
    both at once as unsupported (op and opset), to_ir refuses, the harness says
    'unsupported'."""
    from onnx import TensorProto, helper

    from nnrosetta.rpc.converter import Model

    fe = harness.converter("frontend")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    z = helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 3, 3])
    graph = helper.make_graph(
        [helper.make_node("Det", ["x"], ["y"], name="det"),
         helper.make_node("Frobnicate", ["x"], ["z"], name="frob", domain="com.example")],
        "unsupported", [x], [y, z])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17),
                                                    helper.make_opsetid("com.example", 1)])
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    m = Model(format="onnx", files={"network": str(path)}, names={"network": "model.onnx"},
              workdir=str(tmp_path))
    issues, _ = fe.check(m)
    text = " ".join(f"{i.code} {i.location} {i.message}" for i in issues)
    assert "UNSUPPORTED" in text.upper() and "Det" in text and "Frobnicate" in text, issues
    assert "17" in text, f"the opset is not named: {issues}"
    with pytest.raises(Exception) as err:   # noqa: B017 - any refusal, but a refusal
        list(fe.to_ir(m))
    assert "Det" in str(err.value), err.value
    det = H.cases_by_name()["test_det_2d"]
    for way in H.WAYS:
        r = harness.run(det, way)
        assert r.kind == "unsupported" and "Det" in r.reason, r.label
