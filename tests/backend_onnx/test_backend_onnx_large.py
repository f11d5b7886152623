"""A model whose weights exceed 2 GB: streamed into the real backend-onnx service (its own
process) through FromIR, written as model.onnx + model.onnx.data without holding a second
copy of the weights, checked (onnx.checker, full_check), loaded and run by onnxruntime, and the
service's peak memory measured against the weight size.

Measured on the 2-core development machine (2.06 GiB of float32 weights, FullyConnected
16384 -> 16384 -> 16384 -> 1000): 52 s in all (FromIR 35 s); the service's peak RSS (VmHWM)
was 2.23 GiB from 0.09 GiB at rest: the weights once plus 0.17 GiB (1.08 x the weights);
the test process peaks at 3.2 GiB (onnxruntime holds the weights)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import numpy as np
import pytest

from nnrosetta import wire
from nnrosetta.ir.graph import Graph, Node, TensorInfo, dtype_to_proto
from nnrosetta.proto import converter_pb2 as pb
from nnrosetta.proto import converter_pb2_grpc as pb_grpc

ROOT = Path(__file__).resolve().parents[2]
N = 16384
LAYERS = [("fc1", N, N), ("fc2", N, N), ("fc3", 1000, N)]      # (name, out, in)
WEIGHT_BYTES = sum(o * i * 4 for _, o, i in LAYERS)
ROWS = 64                                                       # rows generated at a time


def rows(name: str, out: int, inp: int, start: int) -> np.ndarray:
    """Rows start .. start+ROWS of a layer's weight, generated the same way every time."""
    seed = [x[0] for x in LAYERS].index(name) * 1_000_003 + start
    rng = np.random.default_rng(seed)
    n = min(ROWS, out - start)
    return (rng.standard_normal((n, inp), dtype=np.float32) / np.float32(np.sqrt(inp)))


def the_graph() -> Graph:
    nodes = [Node("data", "Input", [], {"shape": [1, N]})]
    prev = "data"
    for name, _, _ in LAYERS:
        nodes.append(Node(name, "FullyConnected", [prev]))
        prev = name
    tensors = {f"{n}.weight": TensorInfo(f"{n}.weight", "float32", (o, i)) for n, o, i in LAYERS}
    return Graph(nodes, [prev], {"name": "big_mlp"}, tensors)


def ir_stream(g: Graph):
    """The IR with the weights generated chunk by chunk: the client never holds a tensor."""
    yield pb.IRChunk(header=pb.ModelHeader(format="ir"))
    yield pb.IRChunk(graph=g.to_proto())
    for name, out, inp in LAYERS:
        total = out * inp * 4
        off = 0
        for start in range(0, out, ROWS):
            data = rows(name, out, inp, start).tobytes()
            for i in range(0, len(data), wire.CHUNK_BYTES):
                part = data[i:i + wire.CHUNK_BYTES]
                yield pb.IRChunk(tensor=pb.TensorChunk(
                    name=f"{name}.weight", dtype=dtype_to_proto(np.float32), shape=[out, inp],
                    offset=off, data=part, last=off + len(part) >= total))
                off += len(part)


def reference(x: np.ndarray) -> np.ndarray:
    for name, out, inp in LAYERS:
        y = np.empty((x.shape[0], out), np.float64)
        for start in range(0, out, ROWS):
            w = rows(name, out, inp, start).astype(np.float64)
            y[:, start:start + w.shape[0]] = x @ w.T
        x = y
    return x


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _vm(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.mark.slow
def test_weights_over_2gb_stream_to_external_data(tmp_path):
    import onnx
    import onnxruntime as ort

    port = _free_port()
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "services" / "backend-onnx"),
                                          str(ROOT / "src")])}
    proc = subprocess.Popen([sys.executable, "-m", "nnrosetta_backend_onnx"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ch = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(ch).result(timeout=120)
        stub = pb_grpc.ConverterStub(ch)
        assert stub.Describe(pb.DescribeRequest(), timeout=120).name == "backend-onnx"
        base = _vm(proc.pid, "VmRSS")
        t0 = time.perf_counter()
        files = wire.FileAssembler(folder=str(tmp_path))
        for c in stub.FromIR(ir_stream(the_graph())):
            if c.WhichOneof("payload") == "file":
                files.add(c.file)
        from_ir_s = time.perf_counter() - t0
        peak = _vm(proc.pid, "VmHWM")
    finally:
        proc.terminate()
        proc.wait(30)
    assert set(files.names()) == {"model.onnx", "model.onnx.data", "model.txt"}
    model = files.paths["model.onnx"]
    data_size = os.path.getsize(files.paths["model.onnx.data"])
    assert data_size >= WEIGHT_BYTES
    assert os.path.getsize(model) < 1_000_000
    ratio = peak / WEIGHT_BYTES
    print(f"\nweights {WEIGHT_BYTES / 2**30:.2f} GiB, FromIR {from_ir_s:.1f} s, service RSS "
          f"before {base / 2**30:.2f} GiB, peak {peak / 2**30:.2f} GiB ({ratio:.2f} x weights)")
    # one copy of the weights (as received) plus the runtime: never two copies
    assert peak < WEIGHT_BYTES + base + 512 * 2**20, (peak, WEIGHT_BYTES, base)

    onnx.checker.check_model(model, full_check=True)
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((1, N)).astype(np.float32)
    y = sess.run(None, {"data": x})[0]
    del sess
    ref = reference(x.astype(np.float64))
    assert y.shape == (1, 1000)
    assert np.max(np.abs(y - ref)) <= 1e-4 * max(1.0, float(np.max(np.abs(ref))))
