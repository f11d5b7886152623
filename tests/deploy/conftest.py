"""The chart is checked once per session by scripts/helm-check.sh (which installs the pinned
Helm CLI when missing); its rendered manifests are what the structure tests read. If Helm cannot
be installed or the check fails, every test here fails - nothing is skipped."""

from __future__ import annotations

import pytest

from tests.deploy.k8s import CheckRun, Manifests, helm_path, run_check, values_files


@pytest.fixture(scope="session")
def helm_check(tmp_path_factory) -> CheckRun:
    run = run_check(tmp_path_factory.mktemp("helm-check"))
    assert run.returncode == 0, (
        f"scripts/helm-check.sh failed (rc {run.returncode}):\n{run.stdout}\n{run.stderr}")
    assert helm_path().is_file(), f"helm not found at {helm_path()} after the check"
    return run


@pytest.fixture(scope="session")
def rendered(helm_check) -> dict[str, Manifests]:
    """Manifests per values case: "default" and the stem of every helm/values/*.yaml."""
    cases = ["default", *(f.stem for f in values_files())]
    return {c: helm_check.rendered(c) for c in cases}
