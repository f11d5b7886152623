"""One conversion, from request to report: fetch sources, run the planned hops while streaming
IR between services, verify numerically, publish outputs and report.json together."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np

from nnrosetta import __version__, shared, sniff, wire
from nnrosetta.ir import io as ir_io
from nnrosetta.ir.graph import Graph, split_ref
from nnrosetta.ir.registry import run_reference
from nnrosetta.proto import converter_pb2 as cpb
from nnrosetta.proto import gateway_pb2 as gpb
from nnrosetta.rpc.converter import RUNNABLE, file_names, model_chunks
from nnrosetta.rpc.errors import ConversionError, Issue, from_rpc_error, issues_from_rpc_error
from nnrosetta.rpc.server import log_event
from nnrosetta_gateway import planner, verify
from nnrosetta_gateway.pool import ConverterPool, Replica
from nnrosetta_gateway.storage import Location, Storage, parse_uri

Emit = Callable[[gpb.ConvertEvent], None]
IR_FILES = {"network": ir_io.GRAPH_PB, "weights": ir_io.WEIGHTS_NPZ}


@dataclass
class HopRecord:
    index: int
    step: planner.Step
    replica: Replica
    seconds: float = 0.0
    ir_bytes: int = 0
    stream_s: float = 0.0
    files: dict[str, int] = field(default_factory=dict)
    transport: str = "grpc"

    def to_dict(self) -> dict:
        d = {"service": self.step.service, "address": self.replica.address,
             "action": self.step.action, "from": self.step.from_format,
             "to": self.step.to_format, "framework_version": self.step.framework_version,
             "seconds": round(self.seconds, 4), "transport": self.transport}
        if self.ir_bytes:
            d["ir_weight_bytes"] = self.ir_bytes
            d["stream_s"] = round(self.stream_s, 4)
            if self.stream_s > 0:
                d["stream_MBps"] = round(self.ir_bytes / self.stream_s / 1e6, 1)
        if self.files:
            d["files"] = self.files
        return d


class Conversion:
    def __init__(self, req: gpb.ConvertRequest, pool: ConverterPool, storage: Storage,
                 emit: Emit, cancelled: threading.Event | None = None):
        self.req = req
        self.pool = pool
        self.storage = storage
        self.emit = emit
        self.cancelled = cancelled or threading.Event()
        self.t0 = time.perf_counter()
        self.timings: dict[str, float] = {}
        self.hops: list[HopRecord] = []
        self.graph: Graph | None = None
        self.services_used: dict[str, cpb.DescribeResponse] = {}
        self._downstream_error: ConversionError | None = None
        self._tee: WeightTee = WeightTee(None)
        self._ir_weights_npz: str | None = None
        self._nodes: dict | None = None   # node map of self.graph, built once
        # Files the first and last services keep for verification (ModelHeader.keep_as), so
        # that their Runs name them instead of receiving them again; released at the end.
        self.keep_key = "" if req.verify.skip else f"nnr-{uuid.uuid4().hex}"
        self._kept_on: dict[str, Replica] = {}
        # The source model's verification Run starts as soon as ToIR is done, beside the
        # backend's work (it depends on nothing the backend does).
        self._ctx: tuple | None = None          # (steps, replicas, sources) of this run
        self._source_run: Future | None = None
        # The target's verification Runs on the delivered files: one per form the backend
        # says its output can be run in (FromIR Progress stage "runnable", with the Run
        # options of that form; none said: one Run with the defaults). Each starts as soon as
        # its files are written, beside the rest of the FromIR, where the files can go by path;
        # otherwise after the FromIR, on the files the backend kept.
        self._forms: list[dict[str, str]] = []
        self._target_runs: dict[tuple, Future] = {}
        self._vio: tuple | None = None          # _verify_inputs, once
        self._pool: ThreadPoolExecutor | None = None
        self.saved_by: dict[str, str] = {}      # what the source file says saved it

    # -- events ----------------------------------------------------------------------------
    def stage(self, stage: str, message: str = "", fraction: float = -1.0, hop: int = -1):
        self.emit(gpb.ConvertEvent(progress=gpb.Stage(
            stage=stage, message=message, fraction=fraction, hop=hop,
            elapsed_s=time.perf_counter() - self.t0)))

    def _check_cancel(self):
        if self.cancelled.is_set():
            raise ConversionError(grpc.StatusCode.CANCELLED, "the client cancelled the conversion")

    # -- planning --------------------------------------------------------------------------
    def make_plan(self, saved_by: dict[str, str] | None = None,
                  ) -> tuple[list[planner.Step], gpb.ConversionPlan, list[Replica]]:
        req = self.req
        problems = []
        if not req.source_format:
            problems.append(Issue("MISSING", "source_format", "say which format the source is"))
        if not req.target_format:
            problems.append(Issue("MISSING", "target_format", "say which format to produce"))
        if problems:
            raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, "incomplete request",
                                  problems, reason="BAD_REQUEST")
        services = self.pool.services()
        steps = planner.plan(services, req.source_format, req.target_format,
                             dict(req.constraints), saved_by)
        replicas = []
        self.services_used = {}
        plan = gpb.ConversionPlan()
        for st in steps:
            entry = services[st.service]
            r = entry.pick()
            replicas.append(r)
            self.services_used[st.service] = entry.info
            plan.hop.add(service=st.service, address=r.address, action=st.action,
                         from_format=st.from_format, to_format=st.to_format,
                         framework_version=st.framework_version)
        plan.verify_with = self._verify_description(steps)
        return steps, plan, replicas

    def local_saved_by(self) -> dict[str, str]:
        """For a dry run: what local (file://) source files say saved them; s3 sources are
        only read by a conversion, which routes by them then."""
        files = {}
        for role, uri in self.req.source.items():
            if self.req.source_format == "ir" or not uri.startswith("file://"):
                continue
            try:
                files[role] = parse_uri(uri, f"source.{role}").path
            except ConversionError:
                return {}
        return sniff.saved_by(files) if files else {}

    def _verify_description(self, steps: list[planner.Step]) -> str:
        if self.req.verify.skip:
            return "skipped (requested)"
        src = steps[0].service if steps and steps[0].action == "ToIR" else "IR reference (NumPy)"
        dst = steps[-1].service if steps and steps[-1].action == "FromIR" \
            else "IR reference (NumPy)"
        return f"{src} Run vs {dst} Run"

    # -- the whole thing -------------------------------------------------------------------
    def run(self) -> gpb.Result:
        req = self.req
        steps, plan, replicas = self.make_plan()   # fails fast, before any fetch
        dest = parse_uri(req.destination, "destination") if req.destination else None
        if dest is None:
            raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, "no destination",
                                  [Issue("MISSING", "destination", "give a folder URI")])
        self.storage.check_writable(dest)
        # In the shared folder when there is one: services on this host then take and hand
        # back files by path (same-host transport) instead of streaming their bytes.
        work = Path(shared.mkdtemp("nnr-gw-") or tempfile.mkdtemp(prefix="nnr-gw-"))
        try:
            t = time.perf_counter()
            self.stage("fetch", f"reading {len(req.source)} source file(s)")
            src_dir = work / "source"
            src_dir.mkdir()
            sources = self._fetch_sources(src_dir)
            self.timings["fetch_s"] = time.perf_counter() - t
            # The framework version that saved the file picks among frontends that read
            # its format (a Keras-2 .h5 to the Keras-2 service).
            saved = sniff.saved_by(sources) if req.source_format != "ir" else {}
            if saved:
                self.saved_by = saved
                steps, plan, replicas = self.make_plan(saved)
            self.emit(gpb.ConvertEvent(plan=plan))
            # IR weights are kept on local disk as they stream past (never in memory), for
            # the node-level checks that run the IR on the target service.
            with open(work / "ir-weights.bin", "wb") as tee:
                self._tee = WeightTee(tee)
                return self._run(steps, replicas, dest, work, sources)
        finally:
            if self._pool is not None:   # never leave a Run behind on the kept files
                self._pool.shutdown(wait=True, cancel_futures=True)
            self._tee.close()
            self._release_kept()
            shutil.rmtree(work, ignore_errors=True)

    def _release_kept(self) -> None:
        for addr, rep in self._kept_on.items():
            try:
                rep.stub.Release(cpb.ReleaseRequest(key=[self.keep_key]), timeout=10)
            except grpc.RpcError as e:   # the service drops it after its TTL anyway
                log_event("release failed", address=addr, error=str(e.code()))
        self._kept_on.clear()

    def _run(self, steps, replicas, dest: Location, work: Path,
             sources: dict[str, str]) -> gpb.Result:
        req = self.req

        staging = work / "out"
        staging.mkdir()
        options = dict(req.options)
        self._ctx = (steps, replicas, sources)
        files: dict[str, str] = dict(sources)   # role -> local path of the current model
        fmt = req.source_format
        ir_stream: Iterator[cpb.IRChunk] | None = None
        if fmt == "ir":
            self.graph = ir_io.read_graph(sources["network"])
            self._ir_weights_npz = sources["weights"]
        for i, (st, rep) in enumerate(zip(steps, replicas, strict=True)):
            self._check_cancel()
            hop = HopRecord(i, st, rep)
            self.hops.append(hop)
            last = i == len(steps) - 1
            # only the source's and the target's files are run again (verification)
            keep = self.keep_key if (i == 0 and st.action == "ToIR") or (
                last and st.action == "FromIR") else ""
            hand = None
            if _shares(rep):
                hop.transport = "shared-folder"
                hand = work / f"hop{i}-shared"
                hand.mkdir()
            if st.action == "ToIR":
                if hand is not None:
                    files = self._into_shared(files, work)
                ir_stream = self._to_ir(hop, fmt, files, options, keep, hand)
                files = {}
            else:
                if ir_stream is None:
                    ir_stream = self._ir_from_files(files)
                out_dir = staging if last else work / f"hop{i}"
                out_dir.mkdir(exist_ok=True)
                files = self._from_ir(hop, ir_stream, options, out_dir, keep, hand,
                                      early_run=last and not req.verify.skip)
                ir_stream = None
            fmt = st.to_format
        if ir_stream is not None:   # the target is IR: the gateway itself is the sink
            files = self._write_ir(ir_stream, staging)
        elif req.target_format == "ir":   # ir -> ir: a copy (validated)
            files = {}
            for role, name in IR_FILES.items():
                shutil.copyfile(sources[role], staging / name)
                files[role] = str(staging / name)
        if req.target_format == "ir":
            (staging / ir_io.GRAPH_JSON).write_text(json.dumps(self.graph.to_dict(), indent=1))

        report = self._report_base(steps, sources)
        verified = True
        if req.verify.skip:
            report["verification"] = {"status": "skipped", "reason": "requested by the client"}
        else:
            t = time.perf_counter()
            report["verification"] = self._verify(steps, replicas, sources, staging)
            verified = report["verification"]["status"] == "passed"
            self.timings["verify_s"] = time.perf_counter() - t

        names = staged_files(staging)
        clash = [] if req.overwrite else self.storage.existing(dest, names + ["report.json"])
        if clash:
            raise ConversionError(grpc.StatusCode.ALREADY_EXISTS,
                                  f"destination {dest} already holds {clash}",
                                  [Issue("EXISTS", str(dest.child(n)),
                                         "pass overwrite (--overwrite) to replace it")
                                   for n in clash], reason="EXISTS")
        outputs: list[str] = []
        if verified or options.get("write_unverified") in ("1", "true", "yes"):
            t = time.perf_counter()
            self.stage("publish", f"writing {len(names) + 1} file(s) to {dest}")
            self.timings["total_s"] = time.perf_counter() - self.t0
            report["timings"] = {k: round(v, 4) for k, v in self.timings.items()}
            report["outputs"] = [str(dest.child(n)) for n in names + ["report.json"]]
            (staging / "report.json").write_text(json.dumps(report, indent=1))
            outputs = self.storage.publish(staging, dest, names + ["report.json"])
            report["timings"]["publish_s"] = round(time.perf_counter() - t, 4)
        else:
            self.timings["total_s"] = time.perf_counter() - self.t0
            report["timings"] = {k: round(v, 4) for k, v in self.timings.items()}
            report["outputs"] = []
            report["note"] = ("verification failed: nothing was written to the destination "
                              "(set option write_unverified=1 to write anyway)")
        self.stage("done", "verified" if verified else "verification FAILED", 1.0)
        return gpb.Result(outputs=outputs, report_json=json.dumps(report, indent=1),
                          verified=verified)

    # -- hops ------------------------------------------------------------------------------
    def _fetch_sources(self, folder: Path) -> dict[str, str]:
        req = self.req
        if not req.source:
            raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, "no source files",
                                  [Issue("MISSING", "source", "give source URIs by role, e.g. "
                                         "network=s3://b/net.prototxt weights=s3://b/net.caffemodel")])
        locs = {role: parse_uri(uri, f"source.{role}") for role, uri in req.source.items()}
        if req.source_format == "ir":
            missing = [r for r in IR_FILES if r not in locs]
            if missing:
                raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, "IR source incomplete",
                                      [Issue("MISSING", f"source.{r}", f"IR needs {IR_FILES[r]}")
                                       for r in missing])
        out = {}
        for role, loc in locs.items():
            if self.storage.is_folder(loc):   # a SavedModel: one role per file inside it
                files = self.storage.fetch_folder(loc, folder / f"{role}.d", f"source.{role}")
                out.update({f"{role}/{rel}": str(p) for rel, p in files.items()})
                continue
            name = os.path.basename(loc.path) or role
            out[role] = str(self.storage.fetch(loc, folder / f"{role}-{name}", f"source.{role}"))
        return out

    def _into_shared(self, files: dict[str, str], work: Path) -> dict[str, str]:
        """Source files inside the shared folder (a hard link where possible), to send by
        path."""
        out = {}
        for role, p in files.items():
            if shared.contains(p):
                out[role] = p
                continue
            d = work / "source-shared"
            d.mkdir(exist_ok=True)
            # a folder's files keep distinct names (roles are network/<relative path>)
            dst = d / (role.replace("/", "--") if "/" in role else os.path.basename(p))
            if not dst.exists():
                shared.link_or_copy(p, str(dst))
            out[role] = str(dst)
        return out

    def _to_ir(self, hop: HopRecord, fmt: str, files: dict[str, str],
               options: dict[str, str], keep: str = "", hand: Path | None = None,
               ) -> Iterator[cpb.IRChunk]:
        """Start the frontend's ToIR; returns the IR stream (graph first) for the next hop.
        Progress is turned into events; the graph is kept for verification."""
        t = time.perf_counter()
        self.stage("convert", f"{hop.step.service}: {fmt} -> IR", hop=hop.index)
        if keep:
            self._kept_on[hop.replica.address] = hop.replica
        call = hop.replica.stub.ToIR(model_chunks(
            fmt, files, options, keep_as=keep, shared_dir=str(hand) if hand else "",
            by_path=hand is not None))
        it = iter(call)
        # Read up to the graph now so errors surface before the next hop starts.
        try:
            for c in it:
                kind = c.WhichOneof("payload")
                if kind == "progress":
                    self._progress(c.progress, hop.index)
                elif kind == "graph":
                    self.graph = Graph.from_proto(c.graph)
                    first = c
                    break
            else:
                raise ConversionError(grpc.StatusCode.INTERNAL,
                                      f"{hop.step.service} sent no graph")
        except grpc.RpcError as e:
            raise from_rpc_error(e, f"{hop.step.service} ToIR: ") from e
        hop.seconds = time.perf_counter() - t

        def stream() -> Iterator[cpb.IRChunk]:
            yield first
            t1 = None
            try:
                for c in it:
                    kind = c.WhichOneof("payload")
                    if kind == "progress":
                        self._progress(c.progress, hop.index)
                        continue
                    if kind in ("tensor", "tensor_refs"):
                        if t1 is None:
                            t1 = time.perf_counter()
                        for tc in wire.ir_tensors(c):
                            hop.ir_bytes += len(tc.data) if not tc.path else wire.ref_nbytes(tc)
                            self._tee.add(tc)
                    if self.cancelled.is_set():
                        call.cancel()
                        return
                    yield c
                if hop.index == 0:
                    self._start_source_run()
            except grpc.RpcError as e:
                self._downstream_error = from_rpc_error(e, f"{hop.step.service} ToIR: ")
                raise
            finally:
                if t1 is not None:
                    hop.stream_s = time.perf_counter() - t1
                hop.seconds = time.perf_counter() - t

        return stream()

    def _progress(self, p: cpb.Progress, hop: int) -> None:
        self.stage(p.stage, p.message, p.fraction, hop)

    def _ir_from_files(self, files: dict[str, str]) -> Iterator[cpb.IRChunk]:
        graph = self.graph or ir_io.read_graph(files["network"])
        self.graph = graph

        def stream():
            yield cpb.IRChunk(graph=graph.to_proto())
            for name, arr in ir_io.iter_npz(files["weights"]):
                yield from wire.tensor_chunks(name, arr, into=(cpb.IRChunk, "tensor"))

        return stream()

    def _backend_check(self, hop: HopRecord) -> None:
        """Preflight the graph on the backend before any weight moves."""
        with tempfile.TemporaryDirectory(prefix="nnr-chk-") as d:
            p = os.path.join(d, ir_io.GRAPH_PB)
            with open(p, "wb") as f:
                f.write(self.graph.to_proto().SerializeToString())
            try:
                resp = hop.replica.stub.Check(model_chunks("ir", {"network": p}))
            except grpc.RpcError as e:
                raise from_rpc_error(e, f"{hop.step.service} Check: ") from e
        if not resp.ok:
            raise ConversionError(
                grpc.StatusCode.UNIMPLEMENTED,
                f"{hop.step.service} cannot write this model as {hop.step.to_format}",
                [Issue(i.code, i.location, i.message) for i in resp.issues],
                reason="UNSUPPORTED")

    def _from_ir(self, hop: HopRecord, ir_stream: Iterator[cpb.IRChunk],
                 options: dict[str, str], out_dir: Path, keep: str = "",
                 hand: Path | None = None, early_run: bool = False) -> dict[str, str]:
        t = time.perf_counter()
        if self.graph is None:  # the graph is the stream's first message
            first = next(ir_stream)
            self.graph = Graph.from_proto(first.graph)
            ir_stream = _prepend(first, ir_stream)
        self.stage("check", f"{hop.step.service}: preflight", hop=hop.index)
        self._backend_check(hop)
        self.stage("convert", f"{hop.step.service}: IR -> {hop.step.to_format}", hop=hop.index)

        if keep:
            self._kept_on[hop.replica.address] = hop.replica

        def requests():
            yield cpb.IRChunk(header=cpb.ModelHeader(format="ir", options=options,
                                                     keep_as=keep,
                                                     shared_dir=str(hand) if hand else ""))
            for c in ir_stream:
                kind = c.WhichOneof("payload")
                if hand is None and (kind == "tensor_refs" or kind == "tensor" and c.tensor.path):
                    # the frontend shares our folder, this backend does not: send bytes
                    for ref in wire.ir_tensors(c):
                        for t in wire.materialize(ref):
                            yield cpb.IRChunk(tensor=t)
                else:
                    yield c

        files = wire.FileAssembler(folder=str(out_dir))
        try:
            for c in hop.replica.stub.FromIR(requests()):
                kind = c.WhichOneof("payload")
                if kind == "progress":
                    self._progress(c.progress, hop.index)
                    if early_run and c.progress.stage == RUNNABLE:
                        form = dict(c.progress.run_options)
                        if form not in self._forms:
                            self._forms.append(form)
                        self._start_target_run(hop, {n: files.paths[n] for n in files.names()
                                                     if files.complete(n)}, form)
                elif kind == "file":
                    files.add(c.file)
        except grpc.RpcError as e:
            if self._downstream_error is not None:
                raise self._downstream_error from e
            raise from_rpc_error(e, f"{hop.step.service} FromIR: ") from e
        if self._downstream_error is not None:
            raise self._downstream_error
        hop.seconds = time.perf_counter() - t
        if not files.names():
            raise ConversionError(grpc.StatusCode.INTERNAL, f"{hop.step.service} wrote no files")
        hop.files = {n: os.path.getsize(files.paths[n]) for n in files.names()}
        # roles for the target's Run: file names (backends know their own files)
        return {n: files.paths[n] for n in files.names()}

    def _write_ir(self, ir_stream: Iterator[cpb.IRChunk], staging: Path) -> dict[str, str]:
        self.stage("write", "writing IR files")
        tensors = wire.TensorAssembler()

        def items():
            for c in ir_stream:
                for t in wire.ir_tensors(c):
                    done = tensors.add(t)
                    if done is not None:
                        name, arr = done
                        tensors.done.pop(name)   # written, then dropped
                        yield name, arr

        (staging / ir_io.GRAPH_PB).write_bytes(self.graph.to_proto().SerializeToString())
        ir_io.write_npz(staging / ir_io.WEIGHTS_NPZ, items())
        if self._downstream_error is not None:
            raise self._downstream_error
        return {"network": str(staging / ir_io.GRAPH_PB),
                "weights": str(staging / ir_io.WEIGHTS_NPZ)}

    # -- verification ----------------------------------------------------------------------
    def _verify_inputs(self) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
        """The generated inputs, the graph outputs, and the inputs of final Softmax nodes (a
        softmax over many classes hides errors, so its input is compared too); made once, for
        the early source Run and the rest of the verification alike."""
        if self._vio is None:
            self._vio = self._make_verify_inputs()
        return self._vio

    def _make_verify_inputs(self) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
        g = self.graph
        feeds = verify.make_inputs(g, self.req.verify.seed or 0)
        outs = g.output_refs()
        nodes = g.node_map()
        extra = []
        for ref in outs:
            n = nodes[split_ref(ref)[0]]
            if n.op == "Softmax" and n.inputs:
                extra.append(n.inputs[0])
        return feeds, outs, extra

    def _runs(self) -> ThreadPoolExecutor:
        """The threads of the verification Runs that start early (source, target)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(4, thread_name_prefix="verify-run")
        return self._pool

    def _start_source_run(self) -> None:
        if self.req.verify.skip or self._ctx is None or self.graph is None:
            return
        steps, replicas, sources = self._ctx
        if not steps or steps[0].action != "ToIR":
            return
        feeds, outs, extra = self._verify_inputs()
        fetch = [self._source_name(r) for r in outs + extra]
        self._source_run = self._runs().submit(self._run_source, steps, replicas, sources,
                                               feeds, fetch)

    def _start_target_run(self, hop: HopRecord, files: dict[str, str],
                          form: dict[str, str]) -> None:
        """The target's Run of the delivered files in one form (all the backend's Run reads
        with those options, it says), started while its FromIR still writes the rest. Only
        where the files can go by path (the same host): elsewhere the Run waits for FromIR
        and names the kept files instead of sending them again."""
        key = _form_key(form)
        if key in self._target_runs or self.graph is None or not files:
            return
        if not (_shares(hop.replica) and all(shared.contains(p) for p in files.values())):
            return
        feeds, _, _ = self._verify_inputs()
        # one form after the other: on one service they would only contend for its CPU and
        # each hold a model's copy at once
        before = list(self._target_runs.values())

        def run() -> tuple[dict[str, np.ndarray], dict[str, str]]:
            wait(before)
            vals, info = self._run_service(hop.replica, hop.step.service, hop.step.to_format,
                                           dict(files), feeds, [], options=form)
            return vals, {**info, "model_files": "by-path"}   # the delivered files, not sent

        self._target_runs[key] = self._runs().submit(run)

    def _verify(self, steps, replicas, sources: dict[str, str], staging: Path) -> dict:
        req = self.req
        tol = req.verify.tolerance or verify.DEFAULT_TOLERANCE
        seed = req.verify.seed or 0
        feeds, outs, extra = self._verify_inputs()

        def src_name(ref: str) -> str:
            return self._source_name(ref)

        self.stage("verify", f"running source and target on inputs seeded {seed}")
        src_fetch = [src_name(r) for r in outs + extra]
        if self._source_run is not None:   # started when ToIR finished
            source_vals, source_info = self._source_run.result()
        else:
            source_vals, source_info = self._run_source(steps, replicas, sources, feeds,
                                                         src_fetch)
        forms = []   # (run options, outputs, runtime info) of every form of the output
        for form in self._forms or [{}]:
            started = self._target_runs.get(_form_key(form))
            if started is not None:   # started when the backend's files were out
                forms.append((form, *started.result()))
            else:
                forms.append((form, *self._run_target(steps, replicas, staging, feeds, [],
                                                      options=form)))
        _, target_vals, target_info = forms[0]
        extra_vals = {}
        if extra:
            extra_vals, _ = self._run_target(steps, replicas, staging, feeds, extra)
        results = []
        for ref in outs:
            results.append(verify.compare(ref, src_name(ref), source_vals[src_name(ref)],
                                          target_vals[ref], tol))
        pre = []
        for ref in extra:
            if ref in extra_vals:
                pre.append(verify.compare(ref, src_name(ref), source_vals[src_name(ref)],
                                          extra_vals[ref], tol))
        others = []
        for form, vals, info in forms[1:]:
            cmp = [verify.compare(ref, src_name(ref), source_vals[src_name(ref)], vals[ref],
                                  tol) for ref in outs]
            others.append({"run_options": form, "target_runtime": info,
                           "status": "passed" if all(c.passed for c in cmp) else "failed",
                           "outputs": [c.to_dict() for c in cmp]})
        first_ok = all(c.passed for c in results + pre)
        passed = first_ok and all(o["status"] == "passed" for o in others)
        rep = {
            "status": "passed" if passed else "failed",
            "method": "source framework runtime vs target framework runtime, same inputs",
            "source_runtime": source_info,
            "target_runtime": target_info,
            "metric": "max|target-source| / max|source| per output (error relative to the "
                      "output's scale)",
            "tolerance": tol,
            "seed": seed,
            "inputs": verify.describe_inputs(self.graph, feeds),
            "outputs": [c.to_dict() for c in results],
            "pre_softmax": [c.to_dict() for c in pre],
            # the backend's output in each form it can be run in: the first is the one above,
            # the others are compared with the source the same way
            "forms": [{"run_options": forms[0][0], "status": "passed" if first_ok else "failed"},
                      *others],
        }
        if not passed and not req.verify.disable_locate:
            self.stage("verify", "outputs differ: comparing node by node")
            try:
                rep["first_divergence"] = self._locate(steps, replicas, sources, staging, feeds,
                                                       tol)
            except ConversionError as e:
                rep["first_divergence"] = {"error": str(e)}
        return rep

    def _run_service(self, replica: Replica, service: str, fmt: str, files: dict[str, str],
             feeds: dict[str, np.ndarray], fetch: list[str], graph: Graph | None = None,
             weights: Callable[[], Iterator[tuple[str, np.ndarray]]] | None = None,
             options: dict[str, str] | None = None, use_kept: bool = False,
             ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
        """Run a model on a service. With use_kept the service runs the files it kept under
        this conversion's key (nothing but the inputs is sent; for format "ir" neither graph
        nor weights); when it no longer holds them, the files are sent after all."""
        if use_kept and replica.address in self._kept_on:
            try:
                return self._run_once(replica, service, fmt, {}, feeds, fetch, None, None,
                                      options, self.keep_key)
            except grpc.RpcError as e:
                if issues_from_rpc_error(e)[0] != "KEPT_MISSING":
                    raise from_rpc_error(e, f"{service} Run: ") from e
                log_event("kept files missing; sending them", service=service,
                          address=replica.address)
        try:
            return self._run_once(replica, service, fmt, files, feeds, fetch, graph,
                                  weights() if weights else None, options, "")
        except grpc.RpcError as e:
            raise from_rpc_error(e, f"{service} Run: ") from e

    def _run_once(self, replica: Replica, service: str, fmt: str, files: dict[str, str],
                  feeds: dict[str, np.ndarray], fetch: list[str], graph: Graph | None,
                  weights: Iterator[tuple[str, np.ndarray]] | None,
                  options: dict[str, str] | None, use_kept: str,
                  ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
        names = file_names(files)
        by_path = _shares(replica) and all(shared.contains(p) for p in files.values())

        def requests():
            yield cpb.RunChunk(header=cpb.RunHeader(
                model=cpb.ModelHeader(format=fmt, files=names, options=options or {}),
                fetch=fetch, use_kept=use_kept))
            if graph is not None:
                yield cpb.RunChunk(graph=graph.to_proto())
            for role, p in files.items():
                yield from wire.path_chunks(names[role], p, by_path=by_path,
                                            into=(cpb.RunChunk, "file"))
            for name, arr in feeds.items():
                yield from wire.tensor_chunks(name, arr, into=(cpb.RunChunk, "tensor"))
            for name, arr in weights or ():
                yield from wire.tensor_chunks(name, arr, into=(cpb.RunChunk, "tensor"))

        tensors = wire.TensorAssembler()
        info: dict[str, str] = {}
        for c in replica.stub.Run(requests()):
            kind = c.WhichOneof("payload")
            if kind == "tensor":
                tensors.add(c.tensor)
            elif kind == "header":
                info = dict(c.header.info)
        info.setdefault("service", service)
        return tensors.done, info

    def _run_source(self, steps, replicas, sources, feeds, fetch):
        if steps and steps[0].action == "ToIR":
            return self._run_service(replicas[0], steps[0].service, self.req.source_format,
                                     sources, feeds, fetch, options=dict(self.req.options),
                                     use_kept=True)
        # The source is IR: the NumPy reference implementation is the independent runtime.
        weights = dict(ir_io.iter_npz(sources["weights"]))
        vals = run_reference(self.graph, weights, feeds, list(dict.fromkeys(fetch)))
        return vals, {"service": "gateway", "runtime": "nnrosetta IR reference (NumPy "
                      f"{np.__version__})"}

    def ir_weights(self) -> Iterator[tuple[str, np.ndarray]]:
        if self._ir_weights_npz is not None:
            yield from ir_io.iter_npz(self._ir_weights_npz)
        else:
            yield from self._tee.read()

    def _run_target(self, steps, replicas, staging: Path, feeds, fetch,
                    options: dict[str, str] | None = None):
        if steps and steps[-1].action == "FromIR":
            if not fetch:   # the delivered files, run as a user would run them
                files = {n: str(staging / n) for n in staged_files(staging)}
                return self._run_service(replicas[-1], steps[-1].service,
                                         self.req.target_format, files, feeds, [],
                                         options=options, use_kept=True)
            # intermediate values: the target service runs the IR itself (the same code
            # generation, with taps on the fetched nodes; kept: its own written weights)
            return self._run_service(replicas[-1], steps[-1].service, "ir", {}, feeds, fetch,
                                     graph=self.graph, weights=self.ir_weights, use_kept=True)
        weights = dict(ir_io.iter_npz(staging / ir_io.WEIGHTS_NPZ))
        vals = run_reference(self.graph, weights, feeds, fetch or None)
        return vals, {"service": "gateway", "runtime": "nnrosetta IR reference (NumPy "
                      f"{np.__version__})"}

    def _locate(self, steps, replicas, sources, staging, feeds, tol) -> dict:
        g = self.graph
        pairs = [(n.name, self._source_name(n.name)) for n in g.nodes if n.op != "Input"]
        src_vals, _ = self._run_source(steps, replicas, sources, feeds,
                                       sorted({s for _, s in pairs}))
        tgt_vals, _ = self._run_target(steps, replicas, staging, feeds, [p[0] for p in pairs])
        found = verify.first_divergence(g, src_vals, tgt_vals, pairs, tol)
        return found or {"node": None, "note": "no single node exceeds the tolerance"}

    def _source_name(self, ref: str) -> str:
        """What the source runtime calls this IR value: the source layer's name when a
        frontend produced the graph, the IR ref itself when the source is IR."""
        if self.req.source_format == "ir":
            return ref
        if self._nodes is None or len(self._nodes) != len(self.graph.nodes):
            self._nodes = self.graph.node_map()
        n = self._nodes[split_ref(ref)[0]]
        return n.attrs.get("_source_name") or n.name

    # -- report ----------------------------------------------------------------------------
    def _report_base(self, steps, sources) -> dict:
        req = self.req
        g = self.graph
        frameworks = {"gateway": {"nnrosetta": __version__, "numpy": np.__version__}}
        for name, info in self.services_used.items():
            frameworks[name] = {"framework": info.framework,
                                "framework_version": info.framework_version,
                                "runtime": info.runtime, **dict(info.versions)}
        return {
            "nnrosetta": __version__,
            "source": {"format": req.source_format, "files": dict(req.source),
                       **({"saved_by": self.saved_by} if self.saved_by else {})},
            "target": {"format": req.target_format, "destination": req.destination},
            "options": dict(req.options),
            "hops": [h.to_dict() for h in self.hops],
            "frameworks": frameworks,
            "graph": {"nodes": len(g.nodes), "inputs": [n.name for n in g.inputs],
                      "outputs": g.output_refs(), "weights": len(g.tensors),
                      "weight_bytes": sum(t.nbytes for t in g.tensors.values()),
                      "metadata": dict(g.metadata)} if g else {},
        }


class WeightTee:
    """Appends streamed tensor chunks to a local file and reads tensors back one at a time."""

    def __init__(self, f):
        self.f = f
        self.index: dict[str, tuple[str, tuple[int, ...], int, int]] = {}
        self.refs: dict[str, cpb.TensorChunk] = {}
        self._pos = 0

    def add(self, c: cpb.TensorChunk) -> None:
        if self.f is None:
            return
        if c.path:   # same-host transport: the bytes are in the shared folder already
            ref = cpb.TensorChunk()
            ref.CopyFrom(c)
            self.refs[c.name] = ref
            self.index[c.name] = ("", (), -1, 0)
            return
        if c.offset == 0:
            from nnrosetta.ir.graph import dtype_from_proto

            self.index[c.name] = (dtype_from_proto(c.dtype).str, tuple(c.shape), self._pos, 0)
        dt, shape, start, n = self.index[c.name]
        self.f.write(c.data)
        self._pos += len(c.data)
        self.index[c.name] = (dt, shape, start, n + len(c.data))

    def read(self) -> Iterator[tuple[str, np.ndarray]]:
        if self.f is None:
            return
        self.f.flush()
        with open(self.f.name, "rb") as r:
            for name, (dt, shape, start, n) in self.index.items():
                if name in self.refs:
                    yield name, np.asarray(wire.tensor_from_ref(self.refs[name]))
                    continue
                r.seek(start)
                yield name, np.frombuffer(r.read(n), dtype=np.dtype(dt)).reshape(shape)

    def close(self) -> None:
        self.f = None


def _form_key(form: dict[str, str]) -> tuple:
    return tuple(sorted(form.items()))


def staged_files(staging: Path) -> list[str]:
    """Every file under the staging folder by relative path (a SavedModel is a folder)."""
    return sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())


def _shares(rep: Replica) -> bool:
    """Whether this replica and the gateway share the shared folder (same-host transport)."""
    return rep.info is not None and bool(rep.info.shared_token) and \
        shared.sees(rep.info.shared_token)


def _prepend(first, it):
    yield first
    yield from it
