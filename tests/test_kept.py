"""The kept-files store (ModelHeader.keep_as / RunHeader.use_kept / Release): the store itself,
the converter servicer over a real gRPC socket with a small stand-in Converter, and the
gateway's fallback to sending the files when a service no longer holds them."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

import grpc
import numpy as np
import pytest

from nnrosetta.ir.graph import Graph, Node
from nnrosetta.proto import converter_pb2 as pb
from nnrosetta.proto import converter_pb2_grpc as pb_grpc
from nnrosetta.rpc.converter import Converter, ConverterServicer, model_chunks
from nnrosetta.rpc.errors import issues_from_rpc_error
from nnrosetta.rpc.kept import KeptStore

KEY = "k" * 32


def _folder(content: bytes = b"x" * 100) -> tuple[str, dict[str, str]]:
    d = tempfile.mkdtemp(prefix="nnr-test-kept-")
    p = os.path.join(d, "net.bin")
    Path(p).write_bytes(content)
    return d, {"weights": p}


def test_store_put_acquire_release():
    st = KeptStore(ttl_s=60, max_bytes=1 << 20)
    d, files = _folder()
    st.put(KEY, d, files, {"weights": "net.bin"}, "caffe")
    e = st.acquire(KEY)
    assert e.files == files and e.format == "caffe" and e.size == 100
    assert st.release([KEY]) == 0          # in use: dropped once the reader is done
    assert os.path.isdir(d)
    st.release_use(e)
    assert st.release([KEY]) == 1
    assert not os.path.isdir(d)
    with pytest.raises(Exception) as ei:
        st.acquire(KEY)
    assert ei.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert ei.value.reason == "KEPT_MISSING"


def test_store_ttl_and_size_eviction():
    st = KeptStore(ttl_s=0.05, max_bytes=250)
    d1, f1 = _folder()
    st.put("a" * 16, d1, f1, {})
    time.sleep(0.1)
    d2, f2 = _folder()
    st.put("b" * 16, d2, f2, {})              # expires a: older than the TTL
    assert not os.path.isdir(d1) and os.path.isdir(d2)
    st.ttl_s = 60
    d3, f3 = _folder()
    d4, f4 = _folder()
    st.put("c" * 16, d3, f3, {})
    st.put("d" * 16, d4, f4, {})              # 400 bytes > 250: the least recently used goes
    assert not os.path.isdir(d2) and os.path.isdir(d3) and os.path.isdir(d4)
    st.clear()
    assert not os.path.isdir(d3) and not os.path.isdir(d4)


@pytest.mark.parametrize("key", ["short", "x" * 200, "../../etc/passwd-123456789"])
def test_store_rejects_bad_keys(key):
    d, files = _folder()
    with pytest.raises(Exception) as ei:
        KeptStore().put(key, d, files, {})
    assert ei.value.reason == "BAD_KEY"


class _Echo(Converter):
    """ToIR: a one-node graph; Run: returns the first byte of each file it was given, and
    counts the calls."""

    name = "echo"

    def __init__(self):
        self.runs: list[dict[str, str]] = []

    def describe(self):
        return {"framework": "echo", "framework_version": "1"}

    def to_ir(self, model):
        yield Graph([Node("x", "Input", attrs={"shape": [1], "dtype": "float32"})], ["x"])

    def run(self, model, inputs, fetch):
        self.runs.append({r: Path(p).read_bytes().decode() for r, p in model.files.items()})
        return [(r, np.array([ord(Path(p).read_bytes()[:1])], np.float32))
                for r, p in sorted(model.files.items())], {}


@pytest.fixture()
def echo_server():
    from concurrent import futures

    conv = _Echo()
    ready = threading.Event()
    ready.set()
    servicer = ConverterServicer(conv, ready, KeptStore(ttl_s=60))
    server = grpc.server(futures.ThreadPoolExecutor(4))
    pb_grpc.add_ConverterServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    ch = grpc.insecure_channel(f"127.0.0.1:{port}")
    yield conv, servicer, pb_grpc.ConverterStub(ch), f"127.0.0.1:{port}"
    ch.close()
    server.stop(0)
    servicer.kept.clear()


def _run(stub, use_kept="", files=None):
    def reqs():
        names = {r: os.path.basename(p) for r, p in (files or {}).items()}
        yield pb.RunChunk(header=pb.RunHeader(model=pb.ModelHeader(format="echo", files=names),
                                              use_kept=use_kept))
        for m in model_chunks("echo", files or {}):
            if m.WhichOneof("payload") == "file":
                yield pb.RunChunk(file=m.file)

    out = {}
    for c in stub.Run(reqs()):
        if c.WhichOneof("payload") == "header":
            out["info"] = dict(c.header.info)
            out["names"] = list(c.header.output_names)
    return out


def test_servicer_keeps_toir_files_for_run_and_releases(echo_server, tmp_path):
    conv, servicer, stub, _ = echo_server
    src = tmp_path / "model.txt"
    src.write_text("hello")
    list(stub.ToIR(model_chunks("echo", {"network": str(src)}, keep_as=KEY)))
    assert len(servicer.kept) == 1
    out = _run(stub, use_kept=KEY)
    assert out["info"]["model_files"] == "kept" and out["names"] == ["network"]
    assert conv.runs[-1] == {"network": "hello"}      # the bytes ToIR received, not resent
    e = servicer.kept.acquire(KEY)
    folder = e.folder
    servicer.kept.release_use(e)
    assert stub.Release(pb.ReleaseRequest(key=[KEY, "n" * 20])).released == 1
    assert not os.path.exists(folder)
    with pytest.raises(grpc.RpcError) as ei:
        _run(stub, use_kept=KEY)
    assert ei.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    reason, issues = issues_from_rpc_error(ei.value)
    assert reason == "KEPT_MISSING" and issues[0].location == "use_kept"
    assert "send the model's files" in issues[0].message


def test_servicer_without_keep_leaves_nothing(echo_server, tmp_path):
    _, servicer, stub, _ = echo_server
    src = tmp_path / "model.txt"
    src.write_text("hello")
    before = set(os.listdir(tempfile.gettempdir()))
    list(stub.ToIR(model_chunks("echo", {"network": str(src)})))
    assert len(servicer.kept) == 0
    leaked = [n for n in set(os.listdir(tempfile.gettempdir())) - before
              if n.startswith("nnr-toir-")]
    assert leaked == []


def test_gateway_sends_files_when_the_service_lost_them(echo_server, tmp_path):
    """The gateway asks for the kept files; the service no longer has them; the gateway sends
    the files and the Run succeeds."""
    from nnrosetta.proto import gateway_pb2 as gpb
    from nnrosetta_gateway.pipeline import Conversion
    from nnrosetta_gateway.pool import Replica

    conv, _, stub, addr = echo_server
    c = Conversion(gpb.ConvertRequest(source_format="echo", target_format="ir"), None, None,
                   lambda e: None)
    rep = Replica(addr, None, stub)
    c._kept_on[addr] = rep                 # as if ToIR had been asked to keep them
    src = tmp_path / "model.txt"
    src.write_text("again")
    vals, info = c._run_service(rep, "echo", "echo", {"network": str(src)}, {}, [],
                                use_kept=True)
    assert "model_files" not in info
    assert conv.runs == [{"network": "again"}]
    assert vals["network"][0] == ord("a")
