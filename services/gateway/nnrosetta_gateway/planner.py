"""Plans a conversion as a search over the converters the gateway knows.

Formats are the nodes of a graph; each converter contributes edges: a frontend that reads
``caffe`` and writes ``ir`` gives ``caffe -> ir`` (its ToIR), a backend that reads ``ir`` and
writes ``pytorch`` gives ``ir -> pytorch`` (its FromIR). A plan is a shortest path from the
source format to the target format (breadth first, ties broken by newer framework version),
over the services whose framework version satisfies the request's constraints.

A constraint's key is a framework (``tensorflow``), a service name, or a key of the
services' ``versions`` map (``keras``). When the source file says which framework version
saved it (``nnrosetta.sniff``), the first hop prefers a frontend whose version has the same
major version (a Keras-2 ``.h5`` goes to the Keras-2 service when one runs)."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

import grpc

from nnrosetta.rpc.errors import ConversionError, Issue
from nnrosetta.sniff import major
from nnrosetta_gateway.pool import ServiceEntry


@dataclass(frozen=True)
class Step:
    service: str
    action: str        # "ToIR" or "FromIR"
    from_format: str
    to_format: str
    framework_version: str


def _version_tuple(v: str) -> tuple:
    return tuple(int(x) for x in re.findall(r"\d+", v)[:4])


def satisfies(version: str, constraint: str) -> bool:
    """'>=2.0,<3' style constraints (==, !=, >=, <=, >, <, ~= as prefix match)."""
    if not constraint.strip():
        return True
    have = _version_tuple(version)
    for part in constraint.split(","):
        m = re.match(r"\s*(==|!=|>=|<=|>|<|~=)?\s*([\w.]+)\s*$", part)
        if not m:
            raise ValueError(f"bad version constraint {part!r}")
        op, want_s = m.group(1) or "==", m.group(2)
        want = _version_tuple(want_s)
        cmp_have = have[:len(want)]
        ok = {
            "==": cmp_have == want, "!=": cmp_have != want, ">=": have >= want,
            "<=": cmp_have <= want, ">": have > want, "<": have < want,
            "~=": cmp_have[:max(1, len(want) - 1)] == want[:max(1, len(want) - 1)]
            and have >= want,
        }[op]
        if not ok:
            return False
    return True


def _fits(info, constraints: dict[str, str]) -> bool:
    fw, name = info.framework, info.name
    checks = []
    cons = constraints.get(fw) or constraints.get(name) or ""
    if cons:
        checks.append((fw, info.framework_version, cons))
    for key, c in constraints.items():
        if key not in (fw, name) and key in info.versions:
            checks.append((key, info.versions[key], c))
    for key, have, c in checks:
        try:
            if not satisfies(have, c):
                return False
        except ValueError as e:
            raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, str(e),
                                  [Issue("BAD_CONSTRAINT", key, str(e))]) from e
    return True


def edges(services: dict[str, ServiceEntry], constraints: dict[str, str]) -> list[Step]:
    out = []
    for name, s in sorted(services.items()):
        if not _fits(s.info, constraints):
            continue
        for r in s.info.reads:
            for w in s.info.writes:
                if r == w:
                    continue
                action = "ToIR" if w == "ir" else "FromIR" if r == "ir" else ""
                if action:
                    out.append(Step(name, action, r, w, s.info.framework_version))
    # newer versions first, so BFS prefers them on ties
    out.sort(key=lambda st: _version_tuple(st.framework_version), reverse=True)
    return out


def _same_major(have: str, want: str) -> bool:
    return bool(major(have)) and major(have) == major(want)


def fitting_frontends(services: dict[str, ServiceEntry], steps: list[Step], source: str,
                      saved_by: dict[str, str]) -> tuple[list[Step], list[Step]]:
    """The first-hop steps for `source` split into those whose service runs the framework
    version that saved the file (same major version for every key of saved_by) and the
    rest."""
    first = [st for st in steps if st.from_format == source and st.action == "ToIR"]
    if not saved_by:
        return first, []
    good = [st for st in first
            if all(_same_major(services[st.service].info.versions.get(k, ""), v)
                   for k, v in saved_by.items())]
    return good, [st for st in first if st not in good]


def plan(services: dict[str, ServiceEntry], source: str, target: str,
         constraints: dict[str, str] | None = None,
         saved_by: dict[str, str] | None = None) -> list[Step]:
    constraints = constraints or {}
    steps = edges(services, constraints)
    good, other = fitting_frontends(services, steps, source, saved_by or {})
    if good and other:   # route by the file's version; without a fitting one, try the rest
        steps = [st for st in steps if st not in other]
    if source == target == "ir":
        return []
    if source == target:
        # A round trip (keras -> IR -> keras): the model rewritten as generated code, verified
        # against the original. Through the IR, when a frontend and a backend both exist.
        return (plan(services, source, "ir", constraints, saved_by)
                + plan(services, "ir", target, constraints))
    prev: dict[str, tuple[str, Step] | None] = {source: None}
    q = deque([source])
    while q:
        f = q.popleft()
        if f == target:
            break
        for st in steps:
            if st.from_format == f and st.to_format not in prev:
                prev[st.to_format] = (f, st)
                q.append(st.to_format)
    if target not in prev:
        reads = sorted({s.from_format for s in steps} | {"ir"})
        writes = sorted({s.to_format for s in steps} | {"ir"})
        problems = []
        if source not in reads:
            problems.append(Issue("NO_FRONTEND", "source_format",
                                  f"no running converter reads {source!r}; readable: {reads}"))
        if target not in writes:
            problems.append(Issue("NO_BACKEND", "target_format",
                                  f"no running converter writes {target!r}; writable: {writes}"))
        if not problems:
            problems.append(Issue("NO_PATH", "target_format",
                                  f"no chain of converters leads from {source!r} to {target!r}"))
        if constraints:
            problems.append(Issue("CONSTRAINTS", "constraints",
                                  f"version constraints in force: {constraints}"))
        raise ConversionError(grpc.StatusCode.FAILED_PRECONDITION,
                              f"cannot plan {source} -> {target}", problems, reason="NO_PLAN")
    path: list[Step] = []
    f = target
    while prev[f] is not None:
        f0, st = prev[f]
        path.append(st)
        f = f0
    return path[::-1]
