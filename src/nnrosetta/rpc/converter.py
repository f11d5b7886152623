"""The Converter gRPC service, once, for every framework.

A framework service writes a ``Converter`` subclass with plain Python methods (no gRPC in
them); ``ConverterServicer`` does the wire work: chunk reassembly into a private temporary
folder, progress events, turning ``ConversionError`` into rich gRPC errors, and waiting for
the framework to load. ``serve(converter)`` starts it the way every service starts.

Methods a subclass provides (frontends: check + to_ir + run; backends: check + from_ir + run):

* ``load()``: import the framework (health turns SERVING after it returns).
* ``describe() -> dict`` with keys framework, framework_version, reads, writes,
  ops_supported, versions, runtime.
* ``check(model: Model) -> tuple[list[Issue], Graph | None]``: every problem at once.
* ``to_ir(model: Model)``: a generator of ``Progress``, then one ``Graph``, then
  ``(tensor_name, ndarray)`` pairs.
* ``from_ir(graph, weights, options, workdir)``: a generator of ``Progress`` and
  ``(file_name, path)`` pairs for the files written into ``workdir``.
* ``run(model: Model, inputs: dict, fetch: list) -> tuple[list[(name, ndarray)], dict]``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import numpy as np

from nnrosetta import shared, wire
from nnrosetta.ir import io as ir_io
from nnrosetta.ir.graph import Graph
from nnrosetta.proto import converter_pb2 as pb
from nnrosetta.proto import converter_pb2_grpc as pb_grpc
from nnrosetta.rpc.errors import ConversionError, Issue, abort
from nnrosetta.rpc.kept import KeptStore, check_key
from nnrosetta.rpc.server import Service, log, log_event, return_memory_to_os, setup_logging

# FromIR Progress stage: the files sent so far are all that Run reads with the Progress's
# run_options (one form of the output); a caller may verify them while the rest is written.
RUNNABLE = "runnable"


@dataclass
class Progress:
    stage: str
    message: str = ""
    fraction: float = -1.0
    # stage "runnable": the Run options this form of the output is run with (proto docs)
    run_options: dict[str, str] = field(default_factory=dict)

    def to_proto(self) -> pb.Progress:
        return pb.Progress(stage=self.stage, message=self.message, fraction=self.fraction,
                           run_options=self.run_options)


@dataclass
class Model:
    """A model as a service receives it: format, options, files by role (local paths).

    For format "ir" the graph (and, for Run, the weights) are set instead of files."""

    format: str
    options: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)   # role -> local path
    names: dict[str, str] = field(default_factory=dict)   # role -> original file name
    graph: Graph | None = None
    weights: dict[str, np.ndarray] | None = None
    workdir: str = ""
    keep_as: str = ""                                      # ModelHeader.keep_as
    shared_dir: str = ""                                   # ModelHeader.shared_dir
    kept: Any = None                   # the KeptStore entry a Run reads its files from


class Converter:
    name = "converter"

    def load(self) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        raise NotImplementedError

    def check(self, model: Model) -> tuple[list[Issue], Graph | None]:
        raise NotImplementedError

    def to_ir(self, model: Model) -> Iterator[Any]:
        raise ConversionError(grpc.StatusCode.UNIMPLEMENTED, f"{self.name} does not read models")

    def from_ir(self, graph: Graph, weights: dict[str, np.ndarray], options: dict[str, str],
                workdir: str) -> Iterator[Any]:
        raise ConversionError(grpc.StatusCode.UNIMPLEMENTED, f"{self.name} does not write models")

    def run(self, model: Model, inputs: dict[str, np.ndarray], fetch: list[str],
            ) -> tuple[list[tuple[str, np.ndarray]], dict[str, str]]:
        raise ConversionError(grpc.StatusCode.UNIMPLEMENTED, f"{self.name} cannot run models")


def _bad(msg: str, code: str = "BAD_REQUEST", location: str = "") -> ConversionError:
    return ConversionError(grpc.StatusCode.INVALID_ARGUMENT, msg, [Issue(code, location, msg)],
                           reason=code)


def folder_of(model: Model, role: str = "network") -> str | None:
    """The local folder of a model sent as a folder (a SavedModel): its files come with roles
    ``<role>/<relative path>``; they are linked into ``<workdir>/<role>.d/<relative path>``
    (made once). A role whose path is itself a folder (tests, in-process callers) is returned
    as is. None when the model has no such role."""
    p = model.files.get(role)
    if p is not None:
        return p if os.path.isdir(p) else None
    prefix = role + "/"
    parts = {r[len(prefix):]: path for r, path in model.files.items() if r.startswith(prefix)}
    if not parts:
        return None
    base = os.path.join(model.workdir or tempfile.mkdtemp(prefix="nnr-folder-"), f"{role}.d")
    for rel, path in sorted(parts.items()):
        norm = os.path.normpath(rel)
        if (not rel or os.path.isabs(rel) or norm.startswith("..") or "\\" in rel
                or norm == "."):
            raise _bad(f"file role {role}/{rel!r}: a relative path inside the folder is "
                       "required", "BAD_PATH", f"{role}/{rel}")
        dst = os.path.join(base, norm)
        if os.path.lexists(dst):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        try:
            os.link(path, dst)
        except OSError:
            shutil.copyfile(path, dst)
    return base


def file_names(files: dict[str, str]) -> dict[str, str]:
    """role -> the file name sent on the wire: the base name, made unique (a folder's files
    may share base names in different subfolders)."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for role, p in files.items():
        base = os.path.basename(p) or "file"
        name, i = base, 1
        while name in used:
            name, i = f"{i}-{base}", i + 1
        used.add(name)
        names[role] = name
    return names


def receive_model(chunks: Iterable[pb.ModelChunk], workdir: str) -> Model:
    """Reassemble a header + file chunks into files under workdir."""
    it = iter(chunks)
    first = next(it, None)
    if first is None or first.WhichOneof("payload") != "header":
        raise _bad("the stream must start with a ModelHeader")
    h = first.header
    files = wire.FileAssembler(folder=workdir)
    for c in it:
        kind = c.WhichOneof("payload")
        if kind == "file":
            try:
                files.add(c.file)
            except wire.ChunkError as e:
                raise _bad(str(e), "BAD_CHUNK") from e
    return _model_from_header(h, files, workdir)


def _model_from_header(h: pb.ModelHeader, files: wire.FileAssembler, workdir: str) -> Model:
    model = Model(format=h.format, options=dict(h.options), workdir=workdir, keep_as=h.keep_as,
                  shared_dir=h.shared_dir)
    missing = []
    for role, fname in h.files.items():
        if fname not in files.paths:
            missing.append(Issue("MISSING_FILE", role,
                                 f"file {fname!r} for role {role!r} was announced but not sent"))
            continue
        if not files.complete(fname):
            missing.append(Issue("TRUNCATED", role, f"file {fname!r} ended before its last chunk"))
        model.files[role] = files.paths[fname]
        model.names[role] = fname
    if missing:
        raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, "incomplete model upload",
                              missing, reason="BAD_UPLOAD")
    if model.format == "ir" and "network" in model.files:
        model.graph = ir_io.read_graph(model.files["network"])
    return model


def model_chunks(format: str, files: dict[str, str], options: dict[str, str] | None = None,
                 keep_as: str = "", shared_dir: str = "", by_path: bool = False,
                 ) -> Iterator[pb.ModelChunk]:
    """A model's files (role -> local path) as a chunk stream: the client side of the above.
    by_path: send references to the files (they must lie in the shared folder)."""
    names = file_names(files)
    yield pb.ModelChunk(header=pb.ModelHeader(format=format, files=names, options=options or {},
                                              keep_as=keep_as, shared_dir=shared_dir))
    for role, path in files.items():
        yield from wire.path_chunks(names[role], path, by_path=by_path,
                                    into=(pb.ModelChunk, "file"))


def caller_folder(path: str) -> str:
    """A ModelHeader.shared_dir, checked: an existing folder inside our shared folder."""
    try:
        real = shared.inside(path)
    except shared.OutsideShared as e:
        raise _bad(str(e), "BAD_SHARED_DIR", "shared_dir") from e
    if not os.path.isdir(real):
        raise _bad(f"shared_dir {path!r} is not a folder", "BAD_SHARED_DIR", "shared_dir")
    return real


class _RefWriter:
    """Writes tensors one after another into one file in the caller's shared folder and
    sends their references in batches (``flush``: same-host transport for ToIR's weights)."""

    # references sent together in one TensorRefs message, at most this many
    BATCH = 256

    def __init__(self, folder: str):
        fd, self.path = tempfile.mkstemp(prefix="ir-weights-", suffix=".bin", dir=folder)
        self.f = os.fdopen(fd, "wb")
        self.pos = 0
        self.pending: list[pb.TensorChunk] = []

    def add(self, name: str, arr: np.ndarray) -> None:
        arr = np.ascontiguousarray(arr)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("<"))
        start = self.pos
        if arr.nbytes:
            self.f.write(memoryview(arr.reshape(-1).view(np.uint8)))
        self.pos += arr.nbytes
        self.pending.append(wire.tensor_ref_chunk(name, arr.dtype, arr.shape, self.path, start))

    @property
    def full(self) -> bool:
        return len(self.pending) >= self.BATCH

    def flush(self) -> Iterator[pb.IRChunk]:
        """The references written since the last flush, in one message (their bytes are in
        the file by then); nothing when there are none."""
        if not self.pending:
            return
        self.f.flush()
        refs, self.pending = self.pending, []
        yield pb.IRChunk(tensor_refs=pb.TensorRefs(tensor=refs))

    def close(self) -> None:
        self.f.close()


class ConverterServicer(pb_grpc.ConverterServicer):
    def __init__(self, conv: Converter, ready, kept: KeptStore | None = None):
        self.conv = conv
        self.ready = ready
        self.kept = kept if kept is not None else KeptStore()

    # -- helpers ---------------------------------------------------------------------------
    def _wait_ready(self, context) -> None:
        if not self.ready.wait(timeout=float(os.environ.get("READY_TIMEOUT_S", "300"))):
            context.abort(grpc.StatusCode.UNAVAILABLE, f"{self.conv.name}: framework not loaded")

    def _guard(self, context, method: str, fn, quiet: bool = False):
        """Run fn, turning every failure into a gRPC error with details. quiet: log failures
        only (a step of a stream, logged once as a whole)."""
        t0 = time.perf_counter()
        try:
            out = fn()
            if not quiet:
                log_event("rpc", method=method, ok=True, s=round(time.perf_counter() - t0, 3))
            return out
        except ConversionError as e:
            log_event("rpc", method=method, ok=False, code=e.code.name, error=e.message,
                      issues=len(e.issues))
            abort(context, e)
        except Exception as e:  # noqa: BLE001 - every failure must reach the client
            if isinstance(e, grpc.RpcError) or type(e).__name__ == "_AbortError":
                raise
            log.exception("unexpected error in %s", method)
            abort(context, ConversionError(
                grpc.StatusCode.INTERNAL,
                f"{self.conv.name} failed in {method}: {type(e).__name__}: {e}",
                reason="INTERNAL"))

    # -- RPCs ------------------------------------------------------------------------------
    def Describe(self, request, context):
        self._wait_ready(context)
        d = self.conv.describe()
        return pb.DescribeResponse(
            name=self.conv.name, framework=d["framework"],
            framework_version=d["framework_version"], reads=d.get("reads", []),
            writes=d.get("writes", []), ops_supported=sorted(d.get("ops_supported", [])),
            versions=d.get("versions", {}), runtime=d.get("runtime", ""),
            shared_token=shared.token())

    def Check(self, request_iterator, context):
        self._wait_ready(context)

        def go():
            with tempfile.TemporaryDirectory(prefix="nnr-check-") as wd:
                model = receive_model(request_iterator, wd)
                issues, graph = self.conv.check(model)
                resp = pb.CheckResponse(ok=not issues)
                for i in issues:
                    resp.issues.add(code=i.code, location=i.location, message=i.message)
                if graph is not None and not issues:
                    resp.graph.CopyFrom(graph.to_proto())
                return resp

        return self._guard(context, "Check", go)

    def ToIR(self, request_iterator, context):
        self._wait_ready(context)
        wd = tempfile.mkdtemp(prefix="nnr-toir-")
        refs = None
        try:
            model = self._guard(context, "ToIR.receive",
                                lambda: receive_model(request_iterator, wd))
            if model.keep_as:
                self._guard(context, "ToIR.keep", lambda: check_key(model.keep_as))
            if model.shared_dir:
                folder = self._guard(context, "ToIR.shared",
                                     lambda: caller_folder(model.shared_dir))
                refs = _RefWriter(folder)
            gen = self.conv.to_ir(model)
            t_conv = time.perf_counter()
            sent_graph = False
            while True:
                item = self._guard(context, "ToIR", lambda: next(gen, StopIteration), quiet=True)
                if item is StopIteration:
                    if refs is not None:
                        yield from refs.flush()
                    log_event("rpc", method="ToIR", ok=True,
                              s=round(time.perf_counter() - t_conv, 3))
                    break
                if isinstance(item, Progress):
                    if refs is not None:   # the tensors a progress message counts come first
                        yield from refs.flush()
                    yield pb.IRChunk(progress=item.to_proto())
                elif isinstance(item, Graph):
                    sent_graph = True
                    yield pb.IRChunk(graph=item.to_proto())
                else:
                    name, arr = item
                    if not sent_graph:
                        raise RuntimeError("converter yielded a tensor before the graph")
                    if refs is not None:
                        refs.add(name, arr)
                        if refs.full:
                            yield from refs.flush()
                        continue
                    yield from wire.tensor_chunks(name, arr, into=(pb.IRChunk, "tensor"))
            if refs is not None:
                refs.close()
            if model.keep_as:   # the source files stay for a later Run
                self.kept.put(model.keep_as, wd, model.files, model.names, model.format)
                wd = ""
        finally:
            if refs is not None:
                refs.close()
            if wd:
                shutil.rmtree(wd, ignore_errors=True)
            return_memory_to_os()

    def FromIR(self, request_iterator, context):
        self._wait_ready(context)
        wd = tempfile.mkdtemp(prefix="nnr-fromir-")
        try:
            header = pb.ModelHeader()
            graph, weights, options = self._guard(
                context, "FromIR.receive", lambda: receive_ir(request_iterator, header))
            if header.keep_as:
                self._guard(context, "FromIR.keep", lambda: check_key(header.keep_as))
            by_path = bool(header.shared_dir)
            if by_path:   # write where the caller can take the files without a copy
                folder = self._guard(context, "FromIR.shared",
                                     lambda: caller_folder(header.shared_dir))
                shutil.rmtree(wd, ignore_errors=True)
                wd = tempfile.mkdtemp(prefix="nnr-fromir-", dir=folder)
            gen = self.conv.from_ir(graph, weights, options, wd)
            t_conv = time.perf_counter()
            written: dict[str, str] = {}
            while True:
                item = self._guard(context, "FromIR", lambda: next(gen, StopIteration),
                                   quiet=True)
                if item is StopIteration:
                    log_event("rpc", method="FromIR", ok=True,
                              s=round(time.perf_counter() - t_conv, 3))
                    break
                if isinstance(item, Progress):
                    yield pb.ModelChunk(progress=item.to_proto())
                else:
                    fname, path = item
                    written[fname] = path
                    yield from wire.path_chunks(fname, path, by_path=by_path,
                                                into=(pb.ModelChunk, "file"))
            del weights
            if header.keep_as:   # the written files (and the graph) stay for a later Run
                gdir = os.path.join(wd, ".nnrosetta-ir")
                os.makedirs(gdir, exist_ok=True)
                gpb_path = os.path.join(gdir, ir_io.GRAPH_PB)
                with open(gpb_path, "wb") as f:
                    f.write(graph.to_proto().SerializeToString())
                self.kept.put(header.keep_as, wd, written, {n: n for n in written},
                              graph_pb=gpb_path)
                wd = ""
            elif by_path:
                wd = ""   # in the caller's folder: the caller may still be taking the files
        finally:
            if wd:
                shutil.rmtree(wd, ignore_errors=True)
            return_memory_to_os()

    def Run(self, request_iterator, context):
        self._wait_ready(context)
        wd = tempfile.mkdtemp(prefix="nnr-run-")
        entry = None
        try:
            model, inputs, fetch = self._guard(
                context, "Run.receive",
                lambda: receive_run(request_iterator, wd, self.kept))
            entry = model.kept
            t0 = time.perf_counter()
            outputs, info = self._guard(context, "Run",
                                        lambda: self.conv.run(model, inputs, fetch))
            info = {**info, "run_s": f"{time.perf_counter() - t0:.4f}"}
            if entry is not None:
                info["model_files"] = "kept"
            for name, arr in outputs:
                yield from wire.tensor_chunks(name, np.asarray(arr), into=(pb.RunChunk, "tensor"))
            yield pb.RunChunk(header=pb.RunHeader(info=info,
                                                  output_names=[n for n, _ in outputs]))
        finally:
            if entry is not None:
                self.kept.release_use(entry)
            shutil.rmtree(wd, ignore_errors=True)
            return_memory_to_os()

    def Release(self, request, context):
        n = self.kept.release(list(request.key))
        log_event("rpc", method="Release", keys=len(request.key), released=n)
        return pb.ReleaseResponse(released=n)


def receive_ir(chunks: Iterable[pb.IRChunk], header: pb.ModelHeader | None = None,
               ) -> tuple[Graph, dict[str, np.ndarray], dict[str, str]]:
    """Reassemble an IR stream; the optional header message is copied into ``header``."""
    graph = None
    options: dict[str, str] = {}
    tensors = wire.TensorAssembler()
    for c in chunks:
        kind = c.WhichOneof("payload")
        if kind == "header":
            options = dict(c.header.options)
            if header is not None:
                header.CopyFrom(c.header)
        elif kind == "graph":
            graph = Graph.from_proto(c.graph)
        elif kind in ("tensor", "tensor_refs"):
            if graph is None:
                raise _bad("IR stream: a tensor came before the graph", "BAD_STREAM")
            try:
                for t in wire.ir_tensors(c):
                    tensors.add(t)
            except wire.ChunkError as e:
                raise _bad(str(e), "BAD_CHUNK") from e
    if graph is None:
        raise _bad("IR stream carried no graph", "BAD_STREAM")
    if tensors.incomplete():
        raise _bad(f"IR stream ended inside tensors {tensors.incomplete()}", "TRUNCATED")
    missing = [t for t in graph.tensors if t not in tensors.done]
    if missing:
        raise ConversionError(grpc.StatusCode.INVALID_ARGUMENT, "IR stream lacks weights",
                              [Issue("MISSING_WEIGHT", t, "declared by the graph, never sent")
                               for t in missing], reason="MISSING_WEIGHT")
    return graph, tensors.done, options


def receive_run(chunks: Iterable[pb.RunChunk], workdir: str, kept: KeptStore | None = None,
                ) -> tuple[Model, dict[str, np.ndarray], list[str]]:
    """Reassemble a Run request. With ``use_kept`` the model's files (and for format "ir" the
    graph, when none is sent) come from the kept store; ``model.kept`` holds the entry, which
    the caller must hand back with ``kept.release_use``."""
    it = iter(chunks)
    first = next(it, None)
    if first is None or first.WhichOneof("payload") != "header":
        raise _bad("Run stream must start with a RunHeader")
    h = first.header
    files = wire.FileAssembler(folder=workdir)
    tensors = wire.TensorAssembler()
    graph = None
    for c in it:
        kind = c.WhichOneof("payload")
        try:
            if kind == "file":
                files.add(c.file)
            elif kind == "tensor":
                tensors.add(c.tensor)
            elif kind == "graph":
                graph = Graph.from_proto(c.graph)
        except wire.ChunkError as e:
            raise _bad(str(e), "BAD_CHUNK") from e
    if h.use_kept:
        if kept is None:
            raise _bad("this service keeps no files", "KEPT_MISSING", "use_kept")
        entry = kept.acquire(h.use_kept)
        model = Model(format=h.model.format, options=dict(h.model.options), workdir=workdir,
                      files=dict(entry.files), names=dict(entry.names), kept=entry)
        if model.format == "ir" and graph is None and entry.graph_pb:
            try:
                model.graph = ir_io.read_graph(entry.graph_pb)
            except Exception:
                kept.release_use(entry)
                raise
    else:
        model = _model_from_header(h.model, files, workdir)
    feeds = dict(tensors.done)
    if model.format == "ir":
        if graph is not None:
            model.graph = graph
        # IR weights travel as tensors named "<node>.<role>"; inputs by input-node name.
        if model.graph is not None:
            model.weights = {k: feeds.pop(k) for k in list(feeds) if k in model.graph.tensors}
    return model, feeds, list(h.fetch)


def serve(conv: Converter, *, port: int | None = None, freeze_gc: bool = False) -> Service:
    """Start a converter service the standard way; returns the running Service.
    ``freeze_gc``: see ``Service`` (a process of its own: ``main``)."""
    setup_logging(conv.name)
    holder: dict[str, Service] = {}

    def register(server):
        holder["servicer"] = ConverterServicer(conv, None)
        pb_grpc.add_ConverterServicer_to_server(holder["servicer"], server)

    svc = Service(conv.name, [pb.DESCRIPTOR.services_by_name["Converter"].full_name], register,
                  port=port, load=conv.load, freeze_gc=freeze_gc)
    holder["servicer"].ready = svc.ready
    return svc.start()


def main(conv: Converter) -> None:
    serve(conv, freeze_gc=True).serve_forever()
