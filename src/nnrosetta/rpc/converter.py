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

from nnrosetta import wire
from nnrosetta.ir import io as ir_io
from nnrosetta.ir.graph import Graph
from nnrosetta.proto import converter_pb2 as pb
from nnrosetta.proto import converter_pb2_grpc as pb_grpc
from nnrosetta.rpc.errors import ConversionError, Issue, abort
from nnrosetta.rpc.server import Service, log, log_event, setup_logging


@dataclass
class Progress:
    stage: str
    message: str = ""
    fraction: float = -1.0

    def to_proto(self) -> pb.Progress:
        return pb.Progress(stage=self.stage, message=self.message, fraction=self.fraction)


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
    model = Model(format=h.format, options=dict(h.options), workdir=workdir)
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
                 ) -> Iterator[pb.ModelChunk]:
    """A model's files (role -> local path) as a chunk stream: the client side of the above."""
    names = {role: os.path.basename(p) for role, p in files.items()}
    yield pb.ModelChunk(header=pb.ModelHeader(format=format, files=names, options=options or {}))
    for role, path in files.items():
        for c in wire.path_chunks(names[role], path):
            yield pb.ModelChunk(file=c)


class ConverterServicer(pb_grpc.ConverterServicer):
    def __init__(self, conv: Converter, ready):
        self.conv = conv
        self.ready = ready

    # -- helpers ---------------------------------------------------------------------------
    def _wait_ready(self, context) -> None:
        if not self.ready.wait(timeout=float(os.environ.get("READY_TIMEOUT_S", "300"))):
            context.abort(grpc.StatusCode.UNAVAILABLE, f"{self.conv.name}: framework not loaded")

    def _guard(self, context, method: str, fn):
        """Run fn, turning every failure into a gRPC error with details."""
        t0 = time.perf_counter()
        try:
            out = fn()
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
            versions=d.get("versions", {}), runtime=d.get("runtime", ""))

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
        try:
            model = self._guard(context, "ToIR.receive",
                                lambda: receive_model(request_iterator, wd))
            gen = self.conv.to_ir(model)
            sent_graph = False
            while True:
                item = self._guard(context, "ToIR", lambda: next(gen, StopIteration))
                if item is StopIteration:
                    break
                if isinstance(item, Progress):
                    yield pb.IRChunk(progress=item.to_proto())
                elif isinstance(item, Graph):
                    sent_graph = True
                    yield pb.IRChunk(graph=item.to_proto())
                else:
                    name, arr = item
                    if not sent_graph:
                        raise RuntimeError("converter yielded a tensor before the graph")
                    for c in wire.tensor_chunks(name, arr):
                        yield pb.IRChunk(tensor=c)
        finally:
            shutil.rmtree(wd, ignore_errors=True)

    def FromIR(self, request_iterator, context):
        self._wait_ready(context)
        wd = tempfile.mkdtemp(prefix="nnr-fromir-")
        try:
            graph, weights, options = self._guard(
                context, "FromIR.receive", lambda: receive_ir(request_iterator))
            gen = self.conv.from_ir(graph, weights, options, wd)
            while True:
                item = self._guard(context, "FromIR", lambda: next(gen, StopIteration))
                if item is StopIteration:
                    break
                if isinstance(item, Progress):
                    yield pb.ModelChunk(progress=item.to_proto())
                else:
                    fname, path = item
                    for c in wire.path_chunks(fname, path):
                        yield pb.ModelChunk(file=c)
        finally:
            shutil.rmtree(wd, ignore_errors=True)

    def Run(self, request_iterator, context):
        self._wait_ready(context)
        wd = tempfile.mkdtemp(prefix="nnr-run-")
        try:
            model, inputs, fetch = self._guard(
                context, "Run.receive", lambda: receive_run(request_iterator, wd))
            t0 = time.perf_counter()
            outputs, info = self._guard(context, "Run",
                                        lambda: self.conv.run(model, inputs, fetch))
            info = {**info, "run_s": f"{time.perf_counter() - t0:.4f}"}
            for name, arr in outputs:
                for c in wire.tensor_chunks(name, np.asarray(arr)):
                    yield pb.RunChunk(tensor=c)
            yield pb.RunChunk(header=pb.RunHeader(info=info,
                                                  output_names=[n for n, _ in outputs]))
        finally:
            shutil.rmtree(wd, ignore_errors=True)


def receive_ir(chunks: Iterable[pb.IRChunk]) -> tuple[Graph, dict[str, np.ndarray],
                                                      dict[str, str]]:
    graph = None
    options: dict[str, str] = {}
    tensors = wire.TensorAssembler()
    for c in chunks:
        kind = c.WhichOneof("payload")
        if kind == "header":
            options = dict(c.header.options)
        elif kind == "graph":
            graph = Graph.from_proto(c.graph)
        elif kind == "tensor":
            if graph is None:
                raise _bad("IR stream: a tensor came before the graph", "BAD_STREAM")
            try:
                tensors.add(c.tensor)
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


def receive_run(chunks: Iterable[pb.RunChunk], workdir: str,
                ) -> tuple[Model, dict[str, np.ndarray], list[str]]:
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
    model = _model_from_header(h.model, files, workdir)
    feeds = dict(tensors.done)
    if model.format == "ir":
        if graph is not None:
            model.graph = graph
        # IR weights travel as tensors named "<node>.<role>"; inputs by input-node name.
        if model.graph is not None:
            model.weights = {k: feeds.pop(k) for k in list(feeds) if k in model.graph.tensors}
    return model, feeds, list(h.fetch)


def serve(conv: Converter, *, port: int | None = None) -> Service:
    """Start a converter service the standard way; returns the running Service."""
    setup_logging(conv.name)
    holder: dict[str, Service] = {}

    def register(server):
        holder["servicer"] = ConverterServicer(conv, None)
        pb_grpc.add_ConverterServicer_to_server(holder["servicer"], server)

    svc = Service(conv.name, [pb.DESCRIPTOR.services_by_name["Converter"].full_name], register,
                  port=port, load=conv.load)
    holder["servicer"].ready = svc.ready
    return svc.start()


def main(conv: Converter) -> None:
    serve(conv).serve_forever()
