"""The backend-pytorch Converter: IR in, PyTorch code + weights + TorchScript out; Run in torch.

Files it writes (FromIR) and reads (Run, format "pytorch"), by role:

* ``code`` -> ``model.py``: readable source, ``class Model(nn.Module)``, ``INPUTS``/``OUTPUTS``.
* ``weights`` -> ``weights.pth``: a state_dict of tensors (``torch.load(..., weights_only=True)``).
* ``torchscript`` -> ``model.torchscript.pt``: the model in eval mode, scripted (or traced).

FromIR option ``artifacts``: ``all`` (default, the three files), ``code`` (model.py +
weights.pth) or ``model`` (weights.pth + model.torchscript.pt). Run option ``use``: ``eager``
(default: import model.py, load weights.pth) or ``torchscript``. FromIR compiles the TorchScript
in a thread while it writes weights.pth, and sends Progress stage ``runnable`` once model.py and
weights.pth are out (run options ``use=eager``): the gateway starts verifying them then, while
the compile finishes; a second ``runnable`` (``use=torchscript``) follows the TorchScript file,
which is verified as well.

Security: Run imports ``model.py`` and so executes it. The only code ever sent to Run is code
this service generated itself (the gateway hands back our own FromIR output to verify it); this
service is not a sandbox and must never be exposed to callers that send arbitrary code.
Weights are always loaded with ``weights_only=True``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import tempfile
import threading
import uuid
import warnings
from collections.abc import Iterator, Mapping
from concurrent.futures import Future
from typing import Any

import grpc
import numpy as np

from nnrosetta.ir.graph import Graph, make_ref, split_ref
from nnrosetta.rpc.converter import RUNNABLE, Converter, Model, Progress
from nnrosetta.rpc.errors import ConversionError, Issue
from nnrosetta_backend_pytorch import codegen, emitters, scripting
from nnrosetta_backend_pytorch.frugal import free_dead_locals

MODEL_PY = "model.py"
WEIGHTS_PTH = "weights.pth"
TORCHSCRIPT_PT = "model.torchscript.pt"
META_FILE = "nnrosetta.json"   # extra file inside the TorchScript archive: inputs, outputs
# torch 2.13 deprecates torch.jit (script/save/load) in favour of torch.export; TorchScript is
# still the deliverable here, so keep its per-call warnings out of the service logs.
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit")
ARTIFACTS = {
    "all": ("code", "weights", "torchscript"),
    "code": ("code", "weights"),
    "model": ("weights", "torchscript"),
}


def _bad(msg: str, code: str = "BAD_REQUEST", location: str = "") -> ConversionError:
    return ConversionError(grpc.StatusCode.INVALID_ARGUMENT, msg, [Issue(code, location, msg)],
                           reason=code)


def import_generated(path: str, frugal: bool = False) -> Any:
    """Import a model.py that this service generated (see the module docstring: Run only ever
    receives our own generated code). The module stays in sys.modules under a unique name so
    that TorchScript can read its source; ``forget`` removes it. frugal: compile forward with
    each activation freed after its last use (frugal.py; for inference runs, not TorchScript)."""
    name = f"nnrosetta_generated_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise _bad(f"cannot import {path}")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        if frugal:
            with open(path, encoding="utf-8") as f:
                tree = free_dead_locals(f.read())
            exec(compile(tree, path, "exec"), mod.__dict__)  # noqa: S102 - our own code
        else:
            spec.loader.exec_module(mod)
    except Exception:
        sys.modules.pop(name, None)
        raise
    return mod


def forget(mod: Any) -> None:
    sys.modules.pop(getattr(mod, "__name__", ""), None)


def state_tensors(state: dict[str, np.ndarray]) -> dict[str, Any]:
    import torch

    # Share memory with the received arrays (they are ours and writable); copy only read-only
    # views. The weights then exist once, not twice, while the files are written.
    return {k: torch.from_numpy(v if isinstance(v, np.ndarray) and v.flags.writeable
                                else np.array(v, copy=True)) for k, v in state.items()}


def write_code(gen: codegen.Generated, workdir: str) -> str:
    path = os.path.join(workdir, MODEL_PY)
    with open(path, "w", encoding="utf-8") as f:
        f.write(gen.source)
    return path


def build_model(code_path: str, state: dict[str, Any], frugal: bool = False,
                ) -> tuple[Any, Any]:
    """Import model.py, instantiate Model, load the state_dict strictly; eval mode."""
    import torch

    mod = import_generated(code_path, frugal)
    # Build on the meta device and adopt the loaded tensors (assign=True): no randomly
    # initialised copy of every parameter that load_state_dict would then overwrite.
    with torch.device("meta"):
        model = mod.Model()
    model.load_state_dict(state, strict=True, assign=True)
    model.eval()
    return mod, model


def to_torchscript(model: Any, inputs: list[str], input_shapes: dict[str, list[int]],
                   dtypes: dict[str, str]) -> tuple[Any, str]:
    """torch.jit.script (``scripting.script``), or torch.jit.trace with example inputs when
    scripting fails."""
    import torch

    try:
        return scripting.script(model), "script"
    except Exception as script_error:  # noqa: BLE001 - fall back to tracing
        examples = []
        for name in inputs:
            shape = [d if d > 0 else 1 for d in input_shapes.get(name, [])]
            dt = getattr(torch, dtypes.get(name, "float32"))
            examples.append(torch.zeros(shape, dtype=dt) if not dt.is_floating_point
                            else torch.randn(shape, dtype=dt))
        try:
            with torch.no_grad():
                return torch.jit.trace(model, tuple(examples), check_trace=False), "trace"
        except Exception as trace_error:
            raise ConversionError(
                grpc.StatusCode.INTERNAL,
                f"TorchScript failed: script: {script_error}; trace: {trace_error}",
                reason="TORCHSCRIPT") from trace_error


def write_torchscript(code_path: str, state: dict[str, Any], gen: codegen.Generated,
                      dtypes: dict[str, str], ts_path: str) -> tuple[str, str]:
    """model.torchscript.pt from model.py and the state_dict: (path, "script" | "trace")."""
    import torch

    mod, model = build_model(code_path, state)
    try:
        ts, how = to_torchscript(model, gen.inputs, gen.input_shapes, dtypes)
    finally:
        forget(mod)
    meta = {"inputs": gen.inputs, "outputs": gen.outputs, "how": how,
            "input_shapes": gen.input_shapes, "torch": torch.__version__}
    torch.jit.save(ts, ts_path, _extra_files={META_FILE: json.dumps(meta)})
    return ts_path, how


def _start(fn, *args) -> Future:
    """fn(*args) in a thread of its own; its result (or exception) in the Future."""
    fut: Future = Future()

    def go():
        if not fut.set_running_or_notify_cancel():
            return
        try:
            fut.set_result(fn(*args))
        except BaseException as e:  # noqa: BLE001 - handed to whoever waits on it
            fut.set_exception(e)

    threading.Thread(target=go, name="torchscript", daemon=True).start()
    return fut


def _as_tuple(out: Any) -> tuple[Any, ...]:
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)


def _numpy(t: Any) -> np.ndarray:
    return t.detach().cpu().numpy()


class PyTorchBackend(Converter):
    name = "backend-pytorch"

    def load(self) -> None:
        import torch  # noqa: F401 - the slow part of startup; health turns SERVING after

        emitters.all_emitters()

    # -- Describe ------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        import google.protobuf
        import torch

        return {
            "framework": "pytorch",
            "framework_version": torch.__version__,
            "reads": ["ir"],
            "writes": ["pytorch"],
            "ops_supported": emitters.supported_ops(),
            "versions": {"torch": torch.__version__, "numpy": np.__version__,
                         "protobuf": google.protobuf.__version__, "grpcio": grpc.__version__,
                         "python": sys.version.split()[0]},
            "runtime": f"torch {torch.__version__}",
        }

    # -- Check ---------------------------------------------------------------------------------
    @staticmethod
    def issues(graph: Graph) -> list[Issue]:
        return [Issue("UNSUPPORTED_OP", node, f"{op}: {msg}")
                for node, op, msg in codegen.problems(graph)]

    def check(self, model: Model) -> tuple[list[Issue], Graph | None]:
        if model.format != "ir":
            return [Issue("BAD_FORMAT", "format",
                          f"backend-pytorch checks IR graphs (format 'ir'), not {model.format!r}")
                    ], None
        if model.graph is None:
            return [Issue("MISSING_FILE", "network", "format 'ir' needs the graph (graph.pb)")
                    ], None
        return self.issues(model.graph), None

    # -- FromIR --------------------------------------------------------------------------------
    def from_ir(self, graph: Graph, weights: dict[str, np.ndarray], options: dict[str, str],
                workdir: str) -> Iterator[Any]:
        import torch

        artifacts = options.get("artifacts", "all")
        if artifacts not in ARTIFACTS:
            raise _bad(f"option artifacts={artifacts!r}: use one of {sorted(ARTIFACTS)}",
                       "BAD_OPTION", "artifacts")
        wanted = ARTIFACTS[artifacts]
        issues = self.issues(graph)
        if issues:
            raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT,
                                  f"backend-pytorch cannot emit {len(issues)} node(s)", issues,
                                  reason="UNSUPPORTED_OP")
        yield Progress("codegen", f"generating {MODEL_PY} for {len(graph.nodes)} nodes", 0.0)
        gen = self._generate(graph, weights)
        code_path = write_code(gen, workdir)
        state = state_tensors(gen.state)
        ts_job: Future | None = None
        if "torchscript" in wanted:
            # The TorchScript compile (the slow part) runs beside the writing of weights.pth,
            # and beside the caller's Run of model.py + weights.pth once those are out
            # (Progress stage "runnable"); the file is sent when it is done.
            dtypes = {n.name: str(n.attrs.get("dtype", "float32")) for n in graph.inputs}
            ts_job = _start(write_torchscript, code_path, state, gen, dtypes,
                            os.path.join(workdir, TORCHSCRIPT_PT))
        try:
            if "code" in wanted:
                yield (MODEL_PY, code_path)
            yield Progress("weights", f"writing {WEIGHTS_PTH} ({len(gen.state)} tensors)", 0.0)
            weights_path = os.path.join(workdir, WEIGHTS_PTH)
            torch.save(state, weights_path)
            yield (WEIGHTS_PTH, weights_path)
            if "code" in wanted:   # what Run (use=eager, the default) reads is complete
                yield Progress(RUNNABLE, f"{MODEL_PY} and {WEIGHTS_PTH} written", 1.0,
                               {"use": "eager"})
            if ts_job is None:
                return
            yield Progress("torchscript", f"compiling {TORCHSCRIPT_PT}", 0.0)
            ts_path, how = ts_job.result()
            ts_job = None
            yield Progress("torchscript", f"{how} ok", 1.0)
            yield (TORCHSCRIPT_PT, ts_path)
            # the second form: the TorchScript file alone (verified as well)
            yield Progress(RUNNABLE, f"{TORCHSCRIPT_PT} written", 1.0, {"use": "torchscript"})
        finally:
            if ts_job is not None:   # stopped early: never leave it writing into workdir
                ts_job.exception()

    @staticmethod
    def _generate(graph: Graph, weights: dict[str, np.ndarray],
                  taps: list[str] | None = None) -> codegen.Generated:
        try:
            return codegen.generate(graph, weights, taps or ())
        except codegen.CodegenError as e:
            raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, str(e),
                                  [Issue("CODEGEN", e.node, e.message)], reason="CODEGEN") from e

    # -- Run -----------------------------------------------------------------------------------
    def run(self, model: Model, inputs: dict[str, np.ndarray], fetch: list[str],
            ) -> tuple[list[tuple[str, np.ndarray]], dict[str, str]]:
        import torch

        info = {"torch": torch.__version__}
        if model.format == "ir":
            outs = self._run_ir(model, inputs, fetch)
            info["mode"] = "ir-eager"
            return outs, info
        if model.format != "pytorch":
            raise _bad(f"Run reads format 'pytorch' or 'ir', not {model.format!r}", "BAD_FORMAT",
                       "format")
        # Files may come by role or by the names FromIR gave them (the gateway sends them back
        # as it received them).
        by_name = {MODEL_PY: "code", WEIGHTS_PTH: "weights", TORCHSCRIPT_PT: "torchscript"}
        model.files = {by_name.get(r, r): p for r, p in model.files.items()}
        default_use = "eager" if "code" in model.files or "torchscript" not in model.files \
            else "torchscript"
        use = model.options.get("use", default_use)
        if use == "eager":
            for role in ("code", "weights"):
                if role not in model.files:
                    raise _bad(f"use=eager needs the {role!r} file", "MISSING_FILE", role)
            state = torch.load(model.files["weights"], weights_only=True, map_location="cpu")
            mod, net = build_model(model.files["code"], state, frugal=True)
            try:
                names_in, names_out = list(mod.INPUTS), list(mod.OUTPUTS)
                values = self._call(net, names_in, inputs)
            finally:
                forget(mod)
        elif use == "torchscript":
            if "torchscript" not in model.files:
                raise _bad("use=torchscript needs the 'torchscript' file", "MISSING_FILE",
                           "torchscript")
            extra = {META_FILE: ""}
            net = torch.jit.load(model.files["torchscript"], map_location="cpu",
                                 _extra_files=extra)
            net.eval()
            meta = json.loads(extra[META_FILE] or "{}")
            names_in, names_out = list(meta.get("inputs", [])), list(meta.get("outputs", []))
            # One call through TorchScript's graph interpreter: the scripted graph and the
            # saved constants and weights, without the profiling executor's first-call
            # instrumentation (0.13 s against 0.02 s on MobileNetV2). Its later, optimized
            # calls compute the same ops: this CPU build fuses nothing (no LLVM; tested).
            with torch.jit.optimized_execution(False):
                values = self._call(net, names_in, inputs)
            info["executor"] = "TorchScript graph interpreter (optimized_execution off)"
        else:
            raise _bad(f"option use={use!r}: use 'eager' or 'torchscript'", "BAD_OPTION", "use")
        info["mode"] = use
        if len(names_out) != len(values):
            names_out = [f"output_{i}" for i in range(len(values))]
        result = list(zip(names_out, values, strict=True))
        if fetch:
            by = dict(result)
            missing = [f for f in fetch if f not in by]
            if missing:
                raise _bad(f"fetch {missing}: format 'pytorch' returns the model outputs "
                           f"{names_out} only; send format 'ir' to fetch intermediate nodes",
                           "BAD_FETCH", "fetch")
            result = [(f, by[f]) for f in fetch]
        return result, info

    @staticmethod
    def _call(net: Any, names_in: list[str], inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        import torch

        missing = [n for n in names_in if n not in inputs]
        if missing:
            raise _bad(f"inputs {missing} were not fed (model inputs: {names_in})",
                       "MISSING_INPUT", ",".join(missing))
        args = []
        for n in names_in:
            arr = np.asarray(inputs[n])
            if arr.dtype == np.float64:
                arr = arr.astype(np.float32)
            args.append(torch.from_numpy(np.array(arr, copy=True)))
        with torch.no_grad():
            out = net(*args)
        return [_numpy(t) for t in _as_tuple(out)]

    @staticmethod
    def _delivered_weights(model: Model) -> str | None:
        """The weights.pth to use for a format-"ir" Run that carries no IR weights."""
        if model.weights or model.graph is None or not model.graph.tensors:
            return None
        by_name = {os.path.basename(p): p for p in model.files.values()}
        path = model.files.get("weights") or by_name.get(WEIGHTS_PTH)
        if path is None:
            raise _bad("format 'ir' needs the IR weights (tensors), or the weights.pth this "
                       "service wrote (use_kept)", "MISSING_WEIGHT", "weights")
        return path

    @staticmethod
    def _matching_state(gen: codegen.Generated, path: str) -> dict[str, Any]:
        import torch

        state = torch.load(path, weights_only=True, map_location="cpu")
        want = {k: tuple(np.shape(v)) for k, v in gen.state.items()}
        have = {k: tuple(v.shape) for k, v in state.items()}
        if want != have:
            diff = sorted(set(want.items()) ^ set(have.items()))[:5]
            raise ConversionError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "the kept weights.pth does not fit the code generated for this graph",
                [Issue("KEPT_MISSING", "weights", f"state_dict entries differ: {diff}; send "
                       "the IR weights instead")], reason="KEPT_MISSING")
        return state

    def _run_ir(self, model: Model, inputs: dict[str, np.ndarray], fetch: list[str],
                ) -> list[tuple[str, np.ndarray]]:
        if model.graph is None:
            raise _bad("format 'ir' needs the graph", "MISSING_FILE", "network")
        graph = model.graph
        issues = self.issues(graph)
        if issues:
            raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT,
                                  f"backend-pytorch cannot emit {len(issues)} node(s)", issues,
                                  reason="UNSUPPORTED_OP")
        names = {n.name for n in graph.nodes}
        bad = [f for f in fetch if split_ref(f)[0] not in names]
        if bad:
            raise _bad(f"fetch {bad}: no such IR node", "BAD_FETCH", "fetch")
        delivered = self._delivered_weights(model)
        if delivered is not None:
            # No IR weights sent: the state_dict this service wrote (FromIR, kept) holds them.
            # The code is generated from weight shapes only, then loads that state_dict.
            gen = self._generate(graph, _ShapeOnlyWeights(graph), list(fetch))
            state = self._matching_state(gen, delivered)
        else:
            gen = self._generate(graph, model.weights or {}, list(fetch))
            state = state_tensors(gen.state)
        # In-process callers may give no workdir: a private one, never the current folder.
        tmp = None if model.workdir else tempfile.mkdtemp(prefix="nnr-run-ir-")
        code_path = write_code(gen, model.workdir or tmp)
        mod, net = build_model(code_path, state, frugal=True)
        try:
            values = self._call(net, gen.inputs, inputs)
            if not fetch:
                return list(zip(gen.outputs, values, strict=True))
            return [(f, _numpy(net.taps[make_ref(*split_ref(f))])) for f in fetch]
        finally:
            forget(mod)
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)


class _ShapeOnlyWeights(Mapping):
    """IR weights as zero arrays of the right shape and dtype that take no memory: enough for
    code generation, which only needs shapes; the values come from a state_dict."""

    def __init__(self, graph: Graph):
        self._info = graph.tensors

    def __getitem__(self, name: str) -> np.ndarray:
        t = self._info[name]
        return np.broadcast_to(np.zeros((), dtype=t.dtype), tuple(t.shape))

    def __iter__(self):
        return iter(self._info)

    def __len__(self) -> int:
        return len(self._info)
