"""The backend-onnx Converter: IR in, a standard ONNX model out; Run with onnxruntime (CPU).

Files it writes (FromIR) and reads (Run, format "onnx"), by name (or role):

* ``model.onnx`` (role ``network``): the model, at the opset asked for (option ``opset``,
  default 17, allowed 13 .. the newest the installed onnx knows), checked with
  ``onnx.checker.check_model(full_check=True)`` before it is returned.
* ``model.onnx.data``: the weights, when they exceed what one protobuf can hold (2 GB) or
  with option ``external_data=always``; ``model.onnx`` refers to it by this name, so the two
  files must lie side by side.
* ``model.txt``: the readable form (``onnx.printer``) without the weights' data.

Run: format "onnx" runs the files (fetch: IR refs, or ONNX value names, each added as an extra
graph output when it is not one); format "ir" builds the model from the graph with the fetched
values as extra outputs, from the IR weights sent or, when none are sent (``use_kept``), from
the kept ``model.onnx`` that holds them.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import grpc
import numpy as np

from nnrosetta.ir.graph import Graph, make_ref, split_ref
from nnrosetta.rpc.converter import Converter, Model, Progress
from nnrosetta.rpc.errors import ConversionError, Issue
from nnrosetta_backend_onnx import build, emitters

MODEL_ONNX = build.MODEL_ONNX
MODEL_DATA = MODEL_ONNX + build.DATA_SUFFIX
MODEL_TXT = "model.txt"
EXTERNAL = {"auto": None, "always": True, "never": False}


def _bad(msg: str, code: str = "BAD_REQUEST", location: str = "") -> ConversionError:
    return ConversionError(grpc.StatusCode.INVALID_ARGUMENT, msg, [Issue(code, location, msg)],
                           reason=code)


def _opset(options: dict[str, str]) -> int:
    try:
        return build.parse_opset(options.get("opset"))
    except ValueError as e:
        raise _bad(str(e), "BAD_OPTION", "opset") from e


def check_written(path: str) -> None:
    """onnx.checker (full_check: with strict shape inference) on a written model; a failure is
    an INTERNAL error (the emitters wrote something invalid) that names the node."""
    import onnx

    try:
        onnx.checker.check_model(path, full_check=True)
    except Exception as e:  # noqa: BLE001 - checker and shape-inference errors alike
        msg = str(e)
        m = re.search(r"node name: ([^)\n]+)\)", msg) or re.search(r"Name: ?(\S+)", msg) \
            or re.search(r"[Nn]ode \(?([^)\s]+)", msg)
        node = m.group(1).strip() if m else ""
        raise ConversionError(grpc.StatusCode.INTERNAL,
                              f"the written ONNX model fails onnx.checker"
                              f"{f' at node {node}' if node else ''}: {msg}",
                              [Issue("ONNX_CHECKER", node, msg)], reason="ONNX_CHECKER") from e


def _session(path: str):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.log_severity_level = 3
    threads = int(os.environ.get("NNROSETTA_ORT_THREADS", "0") or 0)
    if threads:
        so.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 - a model onnxruntime refuses
        raise ConversionError(grpc.StatusCode.FAILED_PRECONDITION,
                              f"onnxruntime cannot load the model: {e}",
                              [Issue("RUNTIME", os.path.basename(path), str(e))],
                              reason="RUNTIME") from e


def _link(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        try:
            os.symlink(os.path.realpath(src), dst)
        except OSError:
            shutil.copyfile(src, dst)


def _external_locations(proto) -> list[str]:
    from onnx import TensorProto

    out = []
    for t in proto.graph.initializer:
        if t.data_location == TensorProto.EXTERNAL:
            for kv in t.external_data:
                if kv.key == "location" and kv.value not in out:
                    out.append(kv.value)
    return out


class OnnxBackend(Converter):
    name = "backend-onnx"

    def load(self) -> None:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401 - the slow part of startup; SERVING after

        emitters.all_emitters()

    # -- Describe ------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        import google.protobuf
        import onnx
        import onnxruntime as ort

        return {
            "framework": "onnx",
            "framework_version": onnx.__version__,
            "reads": ["ir"],
            "writes": ["onnx"],
            "ops_supported": emitters.supported_ops(),
            "versions": {"onnx": onnx.__version__, "onnxruntime": ort.__version__,
                         "opsets": f"{build.MIN_OPSET}..{build.max_opset()} "
                                   f"(default {build.DEFAULT_OPSET})",
                         "numpy": np.__version__, "protobuf": google.protobuf.__version__,
                         "grpcio": grpc.__version__, "python": sys.version.split()[0]},
            "runtime": f"onnxruntime {ort.__version__}",
        }

    # -- Check ---------------------------------------------------------------------------------
    @staticmethod
    def issues(graph: Graph, opset: int) -> list[Issue]:
        return [Issue("UNSUPPORTED_OP", node, f"{op}: {msg}")
                for node, op, msg in build.problems(graph, opset)]

    def check(self, model: Model) -> tuple[list[Issue], Graph | None]:
        if model.format != "ir":
            return [Issue("BAD_FORMAT", "format",
                          f"backend-onnx checks IR graphs (format 'ir'), not {model.format!r}")
                    ], None
        if model.graph is None:
            return [Issue("MISSING_FILE", "network", "format 'ir' needs the graph (graph.pb)")
                    ], None
        try:
            opset = build.parse_opset(model.options.get("opset"))
        except ValueError as e:
            return [Issue("BAD_OPTION", "opset", str(e))], None
        return self.issues(model.graph, opset), None

    def _refuse(self, graph: Graph, opset: int) -> None:
        issues = self.issues(graph, opset)
        if issues:
            raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT,
                                  f"backend-onnx cannot emit {len(issues)} node(s) at opset "
                                  f"{opset}", issues, reason="UNSUPPORTED_OP")

    @staticmethod
    def _build(graph: Graph, weights, opset: int, path: str, taps=(), external=None,
               ) -> build.Built:
        try:
            return build.build(graph, weights, opset, path, taps, external)
        except build.BuildError as e:
            raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, str(e),
                                  [Issue("EMIT", e.node, e.message)], reason="EMIT") from e

    # -- FromIR --------------------------------------------------------------------------------
    def from_ir(self, graph: Graph, weights: dict[str, np.ndarray], options: dict[str, str],
                workdir: str) -> Iterator[Any]:
        opset = _opset(options)
        ext = options.get("external_data", "auto")
        if ext not in EXTERNAL:
            raise _bad(f"option external_data={ext!r}: use one of {sorted(EXTERNAL)}",
                       "BAD_OPTION", "external_data")
        self._refuse(graph, opset)
        total = sum(t.nbytes for t in graph.tensors.values())
        yield Progress("build", f"writing {MODEL_ONNX} (opset {opset}, {len(graph.nodes)} nodes, "
                       f"{total / 2**20:.1f} MiB of weights)", 0.0)
        path = os.path.join(workdir, MODEL_ONNX)
        built = self._build(graph, weights, opset, path, external=EXTERNAL[ext])
        yield Progress("check", "onnx.checker.check_model(full_check=True)", 0.5)
        check_written(path)
        txt = os.path.join(workdir, MODEL_TXT)
        with open(txt, "w", encoding="utf-8") as f:
            f.write(built.text())
        yield Progress("check", "ok", 1.0)
        yield (MODEL_ONNX, path)
        if built.data_path:
            yield (os.path.basename(built.data_path), built.data_path)
        yield (MODEL_TXT, txt)

    # -- Run -----------------------------------------------------------------------------------
    def run(self, model: Model, inputs: dict[str, np.ndarray], fetch: list[str],
            ) -> tuple[list[tuple[str, np.ndarray]], dict[str, str]]:
        import onnxruntime as ort

        info = {"onnxruntime": ort.__version__}
        if model.format == "ir":
            outs, mode = self._run_ir(model, inputs, fetch)
            info["mode"] = mode
            return outs, info
        if model.format != "onnx":
            raise _bad(f"Run reads format 'onnx' or 'ir', not {model.format!r}", "BAD_FORMAT",
                       "format")
        path = self._model_file(model)
        info["mode"] = "onnx"
        return self._run_file(path, model.files, model.workdir, inputs, fetch), info

    @staticmethod
    def _model_file(model: Model) -> str:
        for role in ("network", "model", "onnx", MODEL_ONNX):
            if role in model.files:
                return model.files[role]
        onnx_files = [p for r, p in model.files.items()
                      if r.endswith(".onnx") or p.endswith(".onnx")]
        if len(onnx_files) == 1:
            return onnx_files[0]
        raise _bad(f"format 'onnx' needs one .onnx file (role 'network' or a name ending in "
                   f".onnx); got {sorted(model.files)}", "MISSING_FILE", "network")

    def _run_file(self, path: str, files: dict[str, str], workdir: str,
                  inputs: dict[str, np.ndarray], fetch: list[str], onnx_names: bool = False,
                  ) -> list[tuple[str, np.ndarray]]:
        """Run an ONNX file; answers in IR names when the model carries nnrosetta's maps.
        onnx_names: fetch holds ONNX value names (no IR name lookup)."""
        import onnx

        proto = onnx.load(path, load_external_data=False)
        meta = build.read_meta(proto)
        in_map = dict(meta.get(build.META_INPUTS, []))            # IR name -> ONNX name
        out_pairs = meta.get(build.META_OUTPUTS, [])
        values = dict(meta.get(build.META_VALUES, {}))            # IR ref -> ONNX name
        onnx_to_ir = {o: r for r, o in out_pairs}
        graph_outputs = [o.name for o in proto.graph.output]
        produced = {o for n in proto.graph.node for o in n.output} | \
            {i.name for i in proto.graph.input} | {t.name for t in proto.graph.initializer}
        wanted: list[tuple[str, str]] = []                        # (label, ONNX name)
        if fetch:
            for f in fetch:
                if onnx_names:
                    name = f if f in produced else None
                else:
                    name = next((o for r, o in out_pairs if r == f), None) or values.get(f) \
                        or values.get(make_ref(*split_ref(f))) or (f if f in produced else None)
                if name is None:
                    raise _bad(f"fetch {f!r}: no such value in the model (fetch IR refs, or "
                               "ONNX value names)", "BAD_FETCH", "fetch")
                wanted.append((f, name))
        else:
            wanted = [(onnx_to_ir.get(o, o), o) for o in graph_outputs]
        graph_inputs = {i.name for i in proto.graph.input} - \
            {t.name for t in proto.graph.initializer}
        extra = [n for _, n in wanted if n not in graph_outputs and n not in graph_inputs]
        run_path = self._placed(path, proto, files, workdir, extra)
        sess = _session(run_path)
        feeds: dict[str, np.ndarray] = {}
        ir_of = {o: i for i, o in in_map.items()}
        for i in sess.get_inputs():
            ir_name = ir_of.get(i.name, i.name)
            v = inputs.get(ir_name, inputs.get(i.name))
            if v is None:
                raise _bad(f"input {ir_name!r} was not fed (model inputs: "
                           f"{[ir_of.get(x.name, x.name) for x in sess.get_inputs()]})",
                           "MISSING_INPUT", ir_name)
            v = np.asarray(v)
            if v.dtype == np.float64 and i.type == "tensor(float)":
                v = v.astype(np.float32)
            feeds[i.name] = v
        names = [n for _, n in wanted if n not in graph_inputs]
        names = list(dict.fromkeys(names))
        try:
            vals = sess.run(names, feeds) if names else []
        except Exception as e:  # noqa: BLE001 - onnxruntime's errors reach the caller
            raise ConversionError(grpc.StatusCode.FAILED_PRECONDITION,
                                  f"onnxruntime failed: {e}", [Issue("RUNTIME", "", str(e))],
                                  reason="RUNTIME") from e
        got = dict(zip(names, vals, strict=True))
        got.update({n: feeds[n] for _, n in wanted if n in graph_inputs})
        return [(label, np.asarray(got[n])) for label, n in wanted]

    @staticmethod
    def _placed(path: str, proto, files: dict[str, str], workdir: str, extra: list[str]) -> str:
        """A path onnxruntime can load: the external data files beside the model (linked into a
        fresh folder when they are not), the extra outputs added when asked."""
        import onnx

        folder = os.path.dirname(os.path.abspath(path))
        locs = _external_locations(proto)
        if not extra and all(os.path.isfile(os.path.join(folder, loc)) for loc in locs):
            return path
        by_name = {os.path.basename(p): p for p in files.values()}
        by_name.update({r: p for r, p in files.items()})
        here = tempfile.mkdtemp(prefix="onnx-run-", dir=workdir or None)
        for loc in locs:
            src = os.path.join(folder, loc)
            if not os.path.isfile(src):
                src = by_name.get(loc) or by_name.get(os.path.basename(loc), "")
            if not src or not os.path.isfile(src):
                raise _bad(f"the model's external data {loc!r} was not sent", "MISSING_FILE",
                           loc)
            os.makedirs(os.path.dirname(os.path.join(here, loc)) or here, exist_ok=True)
            _link(src, os.path.join(here, loc))
        for name in extra:
            proto.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
        out = os.path.join(here, os.path.basename(path))
        onnx.save(proto, out)
        return out

    # -- Run, format "ir" ------------------------------------------------------------------
    @staticmethod
    def _kept_model(model: Model) -> str | None:
        """The model.onnx to use for a format-"ir" Run that carries no IR weights."""
        if model.weights or model.graph is None or not model.graph.tensors:
            return None
        by_name = {os.path.basename(p): p for p in model.files.values()}
        path = model.files.get("network") or model.files.get(MODEL_ONNX) or \
            by_name.get(MODEL_ONNX)
        if path is None:
            raise _bad("format 'ir' needs the IR weights (tensors), or the model.onnx this "
                       "service wrote (use_kept)", "MISSING_WEIGHT", "weights")
        return path

    def _run_ir(self, model: Model, inputs: dict[str, np.ndarray], fetch: list[str],
                ) -> tuple[list[tuple[str, np.ndarray]], str]:
        if model.graph is None:
            raise _bad("format 'ir' needs the graph", "MISSING_FILE", "network")
        graph = model.graph
        opset = _opset(model.options)
        names = {n.name for n in graph.nodes}
        bad = [f for f in fetch if split_ref(f)[0] not in names]
        if bad:
            raise _bad(f"fetch {bad}: no such IR node", "BAD_FETCH", "fetch")
        wanted = list(fetch) or graph.output_refs()
        kept = self._kept_model(model)
        if kept is not None:
            return self._run_kept(kept, model, inputs, wanted), "ir-kept-onnx"
        self._refuse(graph, opset)
        workdir = tempfile.mkdtemp(prefix="ir-", dir=model.workdir or None)
        try:
            path = os.path.join(workdir, MODEL_ONNX)
            built = self._build(graph, model.weights or {}, opset, path, taps=fetch)
            out_map = dict(built.outputs)
            inputs_by_ir = dict(built.inputs)
            feeds_only = [f for f in wanted if split_ref(f)[0] in inputs_by_ir]
            onnx_fetch = [out_map[f] if f in out_map else built.values[make_ref(*split_ref(f))]
                          for f in wanted if f not in feeds_only]
            vals = dict(zip(onnx_fetch, self._run_onnx_names(path, inputs, onnx_fetch),
                            strict=True))
            out = []
            for f in wanted:
                if f in feeds_only:
                    out.append((f, np.asarray(inputs[split_ref(f)[0]])))
                else:
                    name = out_map[f] if f in out_map else built.values[make_ref(*split_ref(f))]
                    out.append((f, vals[name]))
            return out, "ir"
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _run_onnx_names(self, path: str, inputs: dict[str, np.ndarray], names: list[str],
                        ) -> list[np.ndarray]:
        res = self._run_file(path, {}, os.path.dirname(path), inputs, names, onnx_names=True)
        return [v for _, v in res]

    def _run_kept(self, path: str, model: Model, inputs: dict[str, np.ndarray],
                  wanted: list[str]) -> list[tuple[str, np.ndarray]]:
        import onnx

        proto = onnx.load(path, load_external_data=False)
        meta = build.read_meta(proto)
        values = meta.get(build.META_VALUES)
        if values is None:
            raise ConversionError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "the kept model.onnx carries no IR value map (not written by backend-onnx)",
                [Issue("KEPT_MISSING", "network", "send the IR weights instead")],
                reason="KEPT_MISSING")
        outs = dict(meta.get(build.META_OUTPUTS, []))
        missing = [f for f in wanted if f not in outs and make_ref(*split_ref(f)) not in values]
        if missing:
            raise ConversionError(
                grpc.StatusCode.FAILED_PRECONDITION,
                "the kept model.onnx does not hold every fetched IR value",
                [Issue("KEPT_MISSING", "network", f"values {missing[:5]} are not in the kept "
                       "model (its nodes were pruned or it is another graph); send the IR "
                       "weights instead")], reason="KEPT_MISSING")
        del proto
        return self._run_file(path, model.files, model.workdir, inputs, wanted)
