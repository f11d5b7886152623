"""Rendering the Helm chart and reading the manifests: helm template through the pinned Helm CLI
(scripts/helm-check.sh installs it), PyYAML, Kubernetes label-selector semantics."""

from __future__ import annotations

import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "nnrosetta"
VALUES_DIR = ROOT / "helm" / "values"
CHECK_SCRIPT = ROOT / "scripts" / "helm-check.sh"
RELEASE = "nnr"
NAMESPACE = "nnrosetta"
KUBE_VERSION = "1.30.0"


def helm_path() -> Path:
    default = ROOT / ".tools" / "helm" / "node_modules" / ".bin" / "helm"
    return Path(os.environ.get("HELM") or default)


def values_files() -> list[Path]:
    return sorted(VALUES_DIR.glob("*.yaml"))


def helm(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(helm_path()), *args], capture_output=True, text=True, timeout=120)


def template(values: list[Path] | None = None, sets: list[str] | None = None,
             chart: Path = CHART) -> subprocess.CompletedProcess:
    args = ["template", RELEASE, str(chart), "--namespace", NAMESPACE,
            "--kube-version", KUBE_VERSION]
    for v in values or []:
        args += ["-f", str(v)]
    for s in sets or []:
        args += ["--set", s]
    return helm(*args)


@dataclass
class Manifests:
    docs: list[dict]

    @classmethod
    def parse(cls, text: str) -> Manifests:
        return cls([d for d in yaml.safe_load_all(text) if d])

    def of(self, kind: str) -> list[dict]:
        return [d for d in self.docs if d["kind"] == kind]

    def get(self, kind: str, name: str) -> dict:
        found = [d for d in self.of(kind) if d["metadata"]["name"] == name]
        assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
        return found[0]

    def names(self, kind: str) -> set[str]:
        return {d["metadata"]["name"] for d in self.of(kind)}

    def workloads(self) -> list[dict]:
        return self.of("Deployment") + self.of("StatefulSet")

    def by_component(self, kind: str, component: str) -> list[dict]:
        return [d for d in self.of(kind)
                if d["metadata"]["labels"].get("app.kubernetes.io/component") == component]


def render(values: list[Path] | None = None, sets: list[str] | None = None) -> Manifests:
    res = template(values, sets)
    assert res.returncode == 0, f"helm template failed:\n{res.stderr}"
    return Manifests.parse(res.stdout)


def name(component: str) -> str:
    return f"{RELEASE}-nnrosetta-{component}"


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def pod_labels(workload: dict) -> dict:
    return workload["spec"]["template"]["metadata"]["labels"]


def env_of(container: dict) -> dict[str, dict]:
    return {e["name"]: e for e in container.get("env", [])}


def selects(selector: dict | None, labels: dict) -> bool:
    """Kubernetes LabelSelector semantics (an empty selector selects everything)."""
    selector = selector or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        k, op, vals = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(k) not in vals:
            return False
        if op == "NotIn" and k in labels and labels[k] in vals:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40,
          "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "": 1}


def quantity(q: str | int) -> float:
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(q))
    assert m and m.group(2) in _UNITS, f"not a quantity: {q!r}"
    return float(m.group(1)) * _UNITS[m.group(2)]


@dataclass
class CheckRun:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    out: Path

    def rendered(self, case: str) -> Manifests:
        return Manifests.parse((self.out / f"{case}.yaml").read_text())


def run_check(out: Path, **env: str) -> CheckRun:
    t0 = time.monotonic()
    res = subprocess.run(["bash", str(CHECK_SCRIPT)], cwd=ROOT, capture_output=True, text=True,
                         env={**os.environ, "HELM_CHECK_OUT": str(out), **env}, timeout=600)
    return CheckRun(res.returncode, res.stdout, res.stderr, time.monotonic() - t0, out)
