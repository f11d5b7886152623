"""Run ONNX's backend node tests through nnrosetta, in process, with the services' Converters.

The tests come from ``onnx.backend.test.loader.load_model_tests(kind="node")`` (generated in
memory; the onnx wheel ships no test data). Those whose graph inputs and outputs are all float32
tensors are kept: 751 in onnx 1.23.2 (``EXPECTED_COUNT``). Each runs two ways:

* ``pytorch``: ONNX -> IR (frontend-onnx ``to_ir``) -> PyTorch (backend-pytorch ``from_ir`` with
  ``artifacts=code``, then its ``run`` of the generated model.py + weights.pth, format
  "pytorch");
* ``onnx``: ONNX -> IR -> ONNX (backend-onnx ``from_ir``), then onnxruntime on the model.onnx.

Outputs are compared with the test's expected outputs the way ONNX's backend test runner does
(same count, shape and dtype, then ``assert_allclose`` at the test's rtol/atol: 1e-3/1e-7 by
default). A failure is one of ``KINDS``:

* ``unsupported``: the frontend's Check (or a backend) names ops it cannot convert (op + opset);
* ``conversion``: to_ir or from_ir raised anything else;
* ``runtime``: running the converted model raised (or onnxruntime refused the written model);
* ``mismatch``: the outputs differ (count, shape, dtype, or values: the max error is given);
* ``harness``: the converted model's inputs/outputs cannot be matched to the test's.

A missing service package is not a result: ``Unavailable`` is raised, so tests fail loudly.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import importlib
import inspect
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
EXPECTED_COUNT = 751          # float32 node tests in onnx 1.23.2
ONNX_VERSION = "1.23.2"
WAYS = ("pytorch", "onnx")
WAY_TITLES = {"pytorch": "ONNX -> IR -> PyTorch", "onnx": "ONNX -> IR -> ONNX"}
KINDS = ("unsupported", "conversion", "runtime", "mismatch", "harness")
REASON_MAX = 240

# converter key -> (service folder, package)
SERVICES = {
    "frontend": ("frontend-onnx", "nnrosetta_frontend_onnx"),
    "pytorch": ("backend-pytorch", "nnrosetta_backend_pytorch"),
    "onnx": ("backend-onnx", "nnrosetta_backend_onnx"),
}


class Unavailable(RuntimeError):
    """A service package the harness needs cannot be imported or loaded."""


# --------------------------------------------------------------------------- the test cases


@dataclass
class Case:
    name: str
    op: str               # the ONNX op under test (for *_expanded tests: the expanded op)
    domain: str
    opset: int            # the opset of the op's domain the model imports
    model: Any            # onnx.ModelProto
    inputs: list[np.ndarray]
    outputs: list[np.ndarray]
    rtol: float
    atol: float

    @property
    def expanded(self) -> bool:
        return "_expanded" in self.name

    @property
    def input_names(self) -> list[str]:
        init = {t.name for t in self.model.graph.initializer}
        return [v.name for v in self.model.graph.input if v.name not in init]

    @property
    def output_names(self) -> list[str]:
        return [v.name for v in self.model.graph.output]


def is_float32(model: Any) -> bool:
    """Every graph input (less initializers) and output is a float32 tensor."""
    import onnx

    g = model.graph
    init = {t.name for t in g.initializer}
    for v in [*(i for i in g.input if i.name not in init), *g.output]:
        if v.type.WhichOneof("value") != "tensor_type":
            return False
        if v.type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
            return False
    return True


def base_name(name: str) -> str:
    return re.sub(r"_expanded(_ver\d+)?$", "", name)


ROUND_TRIP_MIN_OPSET = 17   # backend-onnx's default


def _opset(model: Any, domain: str) -> int:
    domains = {"", "ai.onnx"} if domain in ("", "ai.onnx") else {domain}
    for o in model.opset_import:
        if o.domain in domains:
            return int(o.version)
    return 0


@functools.cache
def load_cases() -> tuple[Case, ...]:
    """The float32 node tests, sorted by name (loaded once per process, about 5 s)."""
    import onnx
    from onnx.backend.test.loader import load_model_tests

    if onnx.__version__ != ONNX_VERSION:
        raise Unavailable(f"the conformance suite is pinned to onnx {ONNX_VERSION}, this is "
                          f"onnx {onnx.__version__} (requirements-dev.txt)")
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        tests = load_model_tests(kind="node")
    picked = [t for t in tests if is_float32(t.model)]
    by_name = {t.name: t for t in picked}
    cases = []
    for t in sorted(picked, key=lambda t: t.name):
        base = by_name.get(base_name(t.name), t)
        node = base.model.graph.node[-1]
        if len(t.data_sets) != 1:
            raise AssertionError(f"{t.name}: {len(t.data_sets)} data sets, expected 1")
        ins, outs = t.data_sets[0]
        cases.append(Case(
            name=t.name, op=node.op_type, domain=node.domain or "",
            opset=_opset(t.model, node.domain or ""), model=t.model,
            inputs=[np.asarray(a) for a in ins], outputs=[np.asarray(a) for a in outs],
            rtol=float(t.rtol), atol=float(t.atol)))
    if len(cases) != EXPECTED_COUNT:
        raise AssertionError(f"onnx {onnx.__version__} has {len(cases)} float32 node tests, "
                             f"the suite expects {EXPECTED_COUNT}")
    return tuple(cases)


def cases_by_name() -> dict[str, Case]:
    return {c.name: c for c in load_cases()}


# --------------------------------------------------------------------------- results


@dataclass
class Result:
    kind: str = "pass"                 # "pass" or one of KINDS
    reason: str = ""
    times: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.kind == "pass"

    @property
    def label(self) -> str:
        """What expected.json records: "pass" or "<kind>: <reason>"."""
        return "pass" if self.passed else f"{self.kind}: {self.reason}"


class Failure(Exception):
    """A classified failure of one case one way (kind in KINDS)."""

    def __init__(self, kind: str, reason: str):
        super().__init__(f"{kind}: {reason}")
        self.kind = kind
        self.reason = _short(reason)


def label_kind(label: str) -> str:
    return "pass" if label == "pass" else label.split(":", 1)[0]


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    # temporary folders differ from run to run; keep reasons stable
    text = re.sub(r"/\S*nnr-conf\S*", "<tmp>", text)
    return text if len(text) <= REASON_MAX else text[:REASON_MAX - 3] + "..."


def _error_text(e: BaseException) -> str:
    msg = getattr(e, "message", None) or str(e).split("\n", 1)[0]
    return f"{type(e).__name__}: {msg}" if not hasattr(e, "issues") else str(msg)


def _unsupported_issues(issues: Sequence[Any]) -> list[str]:
    out = []
    for i in issues:
        if "UNSUPPORTED" in str(getattr(i, "code", "")).upper():
            msg = str(getattr(i, "message", i))
            if msg not in out:
                out.append(msg)
    return out


def _classify(e: BaseException, stage: str) -> Failure:
    """A converter's exception as a failure: unsupported when its issues say so."""
    issues = list(getattr(e, "issues", []) or [])
    unsupported = _unsupported_issues(issues)
    if unsupported or "UNSUPPORTED" in str(getattr(e, "reason", "")).upper():
        return Failure("unsupported", f"{stage}: " + ("; ".join(unsupported) or _error_text(e)))
    detail = _error_text(e)
    if issues:
        detail += " [" + "; ".join(f"{getattr(i, 'code', '')}: {getattr(i, 'message', i)}"
                                   for i in issues[:3]) + "]"
    return Failure("conversion", f"{stage}: {detail}")


def compare(expected: Sequence[np.ndarray], got: Sequence[np.ndarray], names: Sequence[str],
            rtol: float, atol: float) -> str | None:
    """None when the outputs match as ONNX's backend test runner requires, else why not."""
    if len(got) != len(expected):
        return f"{len(got)} outputs, expected {len(expected)}"
    for i, (ref, out) in enumerate(zip(expected, got, strict=True)):
        out = np.asarray(out)
        what = f"output {i} ({names[i]})" if i < len(names) else f"output {i}"
        if out.shape != ref.shape:
            return f"{what}: shape {list(out.shape)}, expected {list(ref.shape)}"
        if out.dtype != ref.dtype:
            return f"{what}: dtype {out.dtype}, expected {ref.dtype}"
        with np.errstate(all="ignore"):
            close = np.isclose(out, ref, rtol=rtol, atol=atol, equal_nan=True)
            if close.all():
                continue
            bad = ~close
            diff = np.abs(out.astype(np.float64) - ref.astype(np.float64))[bad]
            finite = diff[np.isfinite(diff)]
            err = float(finite.max()) if finite.size else float("inf")
        nan = int(np.sum(np.isnan(out) != np.isnan(ref)))
        extra = f", {nan} NaN mismatches" if nan else ""
        return (f"{what}: max abs err {err:.2g} at {int(bad.sum())}/{bad.size} elements"
                f"{extra} (rtol {rtol:g}, atol {atol:g})")
    return None


# --------------------------------------------------------------------------- the converters


def _service_class(key: str) -> type:
    folder, package = SERVICES[key]
    path = ROOT / "services" / folder
    if path.is_dir() and str(path) not in sys.path:
        sys.path.insert(0, str(path))
    if str(ROOT / "src") not in sys.path:
        sys.path.insert(0, str(ROOT / "src"))
    try:
        mod = importlib.import_module(f"{package}.service")
    except Exception as e:
        raise Unavailable(f"services/{folder} ({package}.service) does not import: "
                          f"{type(e).__name__}: {e}") from e
    from nnrosetta.rpc.converter import Converter

    found = [c for _, c in inspect.getmembers(mod, inspect.isclass)
             if issubclass(c, Converter) and c is not Converter and c.__module__ == mod.__name__]
    if len(found) != 1:
        raise Unavailable(f"{package}.service defines {len(found)} Converter subclasses "
                          f"({[c.__name__ for c in found]}); expected one")
    return found[0]


@dataclass
class IR:
    graph: Any
    weights: dict[str, np.ndarray]
    seconds: float


class Harness:
    """The three Converters, loaded once; ``run(case, way)`` for one test and one way."""

    def __init__(self, tmp: str | None = None):
        self._convs: dict[str, Any] = {}
        self._errors: dict[str, Unavailable] = {}
        self._own_tmp = tmp is None
        self.tmp = tmp or tempfile.mkdtemp(prefix="nnr-conf-")
        self._last_ir: tuple[str, IR | Failure] | None = None
        self._ort_opts = None

    def close(self) -> None:
        if self._own_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> Harness:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def converter(self, key: str) -> Any:
        if key in self._errors:
            raise self._errors[key]
        if key not in self._convs:
            try:
                conv = _service_class(key)()
                conv.load()
            except Unavailable as e:
                self._errors[key] = e
                raise
            except Exception as e:
                self._errors[key] = Unavailable(f"{SERVICES[key][1]}: load() failed: "
                                                f"{type(e).__name__}: {e}")
                raise self._errors[key] from e
            self._convs[key] = conv
        return self._convs[key]

    def frontend_ops(self) -> list[str]:
        """The ONNX ops frontend-onnx claims (Describe's ops_supported)."""
        return sorted(self.converter("frontend").describe().get("ops_supported", []))

    @contextlib.contextmanager
    def _folder(self, name: str) -> Iterator[str]:
        path = tempfile.mkdtemp(prefix=f"{name[:40]}-", dir=self.tmp)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    # -- ONNX -> IR ------------------------------------------------------------------------
    def to_ir(self, case: Case) -> IR:
        """The IR of a case (the last one is cached: both ways of a case share it).
        Raises Failure."""
        if self._last_ir is not None and self._last_ir[0] == case.name:
            got = self._last_ir[1]
        else:
            got = self._to_ir(case)
            self._last_ir = (case.name, got)
        if isinstance(got, Failure):
            raise got
        return got

    def _to_ir(self, case: Case) -> IR | Failure:
        from nnrosetta.ir.graph import Graph
        from nnrosetta.rpc.converter import Model

        fe = self.converter("frontend")
        with self._folder(case.name) as work:
            path = os.path.join(work, "model.onnx")
            with open(path, "wb") as f:
                f.write(case.model.SerializeToString())
            model = Model(format="onnx", files={"network": path},
                          names={"network": "model.onnx"}, workdir=work)
            t0 = time.perf_counter()
            graph, weights = None, {}
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    for item in fe.to_ir(model):
                        if isinstance(item, Graph):
                            graph = item
                        elif isinstance(item, tuple):
                            weights[item[0]] = np.array(item[1], copy=True)
            except Exception as e:  # noqa: BLE001 - every failure is classified
                fail = _classify(e, "frontend-onnx")
                if fail.kind != "unsupported":
                    fail = self._check_unsupported(fe, model) or fail
                return fail
            seconds = time.perf_counter() - t0
        if graph is None:
            return Failure("conversion", "frontend-onnx: to_ir yielded no graph")
        return IR(graph, weights, seconds)

    @staticmethod
    def _check_unsupported(fe: Any, model: Any) -> Failure | None:
        """After a failed to_ir: does the frontend's Check name unsupported ops?"""
        try:
            issues, _ = fe.check(model)
        except Exception:  # noqa: BLE001 - to_ir's own error stands
            return None
        unsupported = _unsupported_issues(issues)
        if unsupported:
            return Failure("unsupported", "frontend-onnx: " + "; ".join(unsupported))
        return None

    # -- one way ---------------------------------------------------------------------------
    def run(self, case: Case, way: str) -> Result:
        """One case one way. Raises Unavailable when a needed service package is missing."""
        times: dict[str, float] = {}
        try:
            got = self.outputs(case, way, times)
            why = compare(case.outputs, got, case.output_names, case.rtol, case.atol)
            if why:
                raise Failure("mismatch", why)
        except Failure as f:
            return Result(f.kind, f.reason, times)
        return Result("pass", "", times)

    def outputs(self, case: Case, way: str, times: dict[str, float] | None = None,
                ) -> list[np.ndarray]:
        """The converted model's outputs for the case's inputs, in the ONNX model's output
        order; ``times`` gets to_ir_s, from_ir_s, run_s. Raises Failure or Unavailable."""
        if way not in WAYS:
            raise ValueError(f"way {way!r}: one of {WAYS}")
        self.converter("frontend")
        self.converter(way)
        times = {} if times is None else times
        ir = self.to_ir(case)
        times["to_ir_s"] = ir.seconds
        graph, weights = copy.deepcopy(ir.graph), {k: np.array(v, copy=True)
                                                   for k, v in ir.weights.items()}
        feeds, out_names = self._io(case, graph)
        with self._folder(case.name) as work:
            if way == "pytorch":
                got = self._pytorch(graph, weights, feeds, work, times)
            else:
                got = self._onnx(graph, weights, feeds, work, times,
                                 _opset(case.model, ""))
        return _order(got, out_names, case.output_names)

    def run_both(self, case: Case) -> dict[str, Result]:
        return {w: self.run(case, w) for w in WAYS}

    @staticmethod
    def _io(case: Case, graph: Any) -> tuple[dict[str, np.ndarray], list[str]]:
        """Feeds by IR input name; the ONNX name of each IR output (in IR output order)."""
        onnx_in = case.input_names
        feeds = {}
        for n in graph.inputs:
            src = n.attrs.get("_source_name") or n.name
            if src not in onnx_in:
                raise Failure("harness", f"IR input {n.name!r} ({src!r}) is none of the ONNX "
                                       f"inputs {onnx_in}")
            feeds[n.name] = case.inputs[onnx_in.index(src)]
        refs = graph.output_refs()
        if len(refs) != len(case.outputs):
            raise Failure("mismatch", f"the IR has {len(refs)} outputs {refs}, the ONNX model "
                                    f"{len(case.outputs)} {case.output_names}")
        nodes = graph.node_map()
        from nnrosetta.ir.graph import split_ref

        names = []
        for ref in refs:
            node, idx = split_ref(ref)
            n = nodes.get(node)
            src = n.attrs.get("_source_name") if n is not None and idx == 0 else None
            names.append(src or ref)
        return feeds, names

    def _pytorch(self, graph, weights, feeds, work, times) -> list[tuple[str, np.ndarray]]:
        from nnrosetta.rpc.converter import Model, Progress

        be = self.converter("pytorch")
        out_dir = os.path.join(work, "pytorch")
        os.makedirs(out_dir)
        files: dict[str, str] = {}
        t0 = time.perf_counter()
        try:
            for item in be.from_ir(graph, weights, {"artifacts": "code"}, out_dir):
                if not isinstance(item, Progress):
                    files[item[0]] = item[1]
        except Exception as e:  # noqa: BLE001
            raise _classify(e, "backend-pytorch") from e
        times["from_ir_s"] = time.perf_counter() - t0
        run_dir = os.path.join(work, "run")
        os.makedirs(run_dir)
        model = Model(format="pytorch", files=dict(files), names={n: n for n in files},
                      workdir=run_dir)
        t0 = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                outs, _ = be.run(model, dict(feeds), [])
        except Exception as e:  # noqa: BLE001
            raise Failure("runtime", f"backend-pytorch run: {_error_text(e)}") from e
        times["run_s"] = time.perf_counter() - t0
        return [(n, np.asarray(v)) for n, v in outs]

    def _onnx(self, graph, weights, feeds, work, times, source_opset: int = 0,
              ) -> list[tuple[str, np.ndarray]]:
        """The round trip writes at the source model's opset (what a user converting it back
        would ask for), at least backend-onnx's default 17."""
        import onnxruntime as ort

        from nnrosetta.rpc.converter import Progress

        be = self.converter("onnx")
        out_dir = os.path.join(work, "onnx")
        os.makedirs(out_dir)
        files: dict[str, str] = {}
        t0 = time.perf_counter()
        try:
            opset = max(ROUND_TRIP_MIN_OPSET, source_opset)
            for item in be.from_ir(graph, weights, {"opset": str(opset)}, out_dir):
                if not isinstance(item, Progress):
                    files[item[0]] = item[1]
        except Exception as e:  # noqa: BLE001
            raise _classify(e, "backend-onnx") from e
        times["from_ir_s"] = time.perf_counter() - t0
        onnx_files = [p for n, p in files.items() if n.endswith(".onnx")]
        if len(onnx_files) != 1:
            raise Failure("conversion", f"backend-onnx wrote {sorted(files)}: expected one .onnx")
        if self._ort_opts is None:
            ort.set_default_logger_severity(3)
            self._ort_opts = ort.SessionOptions()
            self._ort_opts.intra_op_num_threads = 1
            self._ort_opts.inter_op_num_threads = 1
            self._ort_opts.log_severity_level = 3
        t0 = time.perf_counter()
        try:
            sess = ort.InferenceSession(onnx_files[0], self._ort_opts,
                                        providers=["CPUExecutionProvider"])
        except Exception as e:  # noqa: BLE001
            raise Failure("runtime", f"onnxruntime cannot load model.onnx: {_error_text(e)}"
                        ) from e
        names = [i.name for i in sess.get_inputs()]
        ir_names = list(feeds)
        if set(names) <= set(ir_names):
            ort_feeds = {n: feeds[n] for n in names}
        elif len(names) == len(ir_names):          # renamed: by position
            ort_feeds = {n: feeds[m] for n, m in zip(names, ir_names, strict=True)}
        else:
            raise Failure("harness", f"model.onnx inputs {names} vs IR inputs {ir_names}")
        try:
            vals = sess.run(None, ort_feeds)
        except Exception as e:  # noqa: BLE001
            raise Failure("runtime", f"onnxruntime run: {_error_text(e)}") from e
        times["run_s"] = time.perf_counter() - t0
        return [(o.name, np.asarray(v)) for o, v in zip(sess.get_outputs(), vals, strict=True)]


def _order(got: list[tuple[str, np.ndarray]], ir_names: list[str],
           onnx_names: list[str]) -> list[np.ndarray]:
    """Outputs in the ONNX model's order: by name when the runtime's names are the ONNX ones,
    else in the IR's output order (which the harness mapped to ONNX names)."""
    by = dict(got)
    if len(by) == len(got) and set(by) == set(onnx_names):
        return [by[n] for n in onnx_names]
    vals = [v for _, v in got]
    if len(vals) == len(ir_names) and sorted(ir_names) == sorted(onnx_names) \
            and len(set(ir_names)) == len(ir_names):
        pos = {n: i for i, n in enumerate(ir_names)}
        return [vals[pos[n]] for n in onnx_names]
    return vals


def run_all(names: Sequence[str] | None = None, ways: Sequence[str] = WAYS,
            progress: bool = False) -> dict[str, dict[str, Result]]:
    """Every (or the named) float32 test, every way."""
    cases = load_cases()
    if names is not None:
        want = set(names)
        cases = tuple(c for c in cases if c.name in want)
    out: dict[str, dict[str, Result]] = {}
    with Harness() as h:
        for i, c in enumerate(cases):
            out[c.name] = {w: h.run(c, w) for w in ways}
            if progress and (i + 1) % 50 == 0:
                print(f"  {i + 1}/{len(cases)}", file=sys.stderr, flush=True)
    return out
