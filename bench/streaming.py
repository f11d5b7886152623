"""IR streaming rate: the gateway's forwarding of tensor chunks vs direct transports.

(i)   raw loopback TCP between two processes: 1 GiB in 4 MiB sends, the receiver recv_into a
      preallocated buffer (the physical limit of this machine).
(ii)  one direct gRPC server-stream of the same bytes between two processes: TensorChunk
      messages of wire.CHUNK_BYTES (4 MiB - 64 KiB) built as nnrosetta.wire does (bytes slices),
      the receiver copies each into a preallocated numpy buffer (as wire.TensorAssembler does).
      Run twice: sender on this venv's grpcio, and sender on frontend-caffe's venv (the grpcio
      that serves ToIR).
(iii) the IR stream through the gateway: vgg16 Caffe -> PyTorch on a warm stack without a shared
      folder (so the tensors cross gRPC as bytes, as between hosts), verify skipped;
      report["hops"][0]: ir_weight_bytes / stream_s = the rate at which the gateway forwards
      frontend-caffe's ToIR tensor chunks into backend-pytorch's FromIR.

Target: gateway / direct gRPC >= 60 %.

    PYTHONPATH=. .venv/bin/python -m bench.streaming [--gib 1] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, caffe_source, log, median, save, stack, table, zoo

TARGET_RATIO = 0.60
SEND = 4 * 1024 * 1024


# --------------------------------------------------------------------------- (i) raw TCP


def _tcp_sender(port: int, total: int) -> None:
    buf = memoryview(bytearray(os.urandom(SEND)))
    s = socket.create_connection(("127.0.0.1", port))
    sent = 0
    while sent < total:
        n = min(SEND, total - sent)
        s.sendall(buf[:n])
        sent += n
    s.close()


def raw_tcp(total: int) -> float:
    """Seconds from the first byte to the last, received into a preallocated buffer."""
    import multiprocessing as mp

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    ctx = mp.get_context("spawn")
    p = ctx.Process(target=_tcp_sender, args=(port, total))
    p.start()
    conn, _ = srv.accept()
    dst = bytearray(total)
    mv = memoryview(dst)
    got = conn.recv_into(mv, SEND)
    t0 = time.perf_counter()
    while got < total:
        n = conn.recv_into(mv[got:], min(SEND, total - got))
        if n == 0:
            raise RuntimeError("sender closed early")
        got += n
    dt = time.perf_counter() - t0
    conn.close()
    srv.close()
    p.join()
    return dt * total / max(total - SEND, 1)   # the first recv was outside the clock


# --------------------------------------------------------------------------- (ii) direct gRPC

METHOD = "/nnrosetta.bench.Stream/Pull"
SENDER = r'''
import sys, time
from concurrent import futures
import grpc
import numpy as np
from nnrosetta import wire
from nnrosetta.proto import converter_pb2 as pb

total = int(sys.argv[1])
data = np.random.default_rng(0).integers(0, 255, size=total, dtype=np.uint8)

def pull(request, context):
    # exactly what ConverterServicer.ToIR sends: wire.tensor_chunks of one big tensor
    yield from wire.tensor_chunks("t", data)

handler = grpc.method_handlers_generic_handler("nnrosetta.bench.Stream", {
    "Pull": grpc.unary_stream_rpc_method_handler(
        pull, request_deserializer=lambda b: b,
        response_serializer=pb.TensorChunk.SerializeToString)})
server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
server.add_generic_rpc_handlers((handler,))
port = server.add_insecure_port("127.0.0.1:0")
server.start()
print(f"PORT {port} grpc {grpc.__version__}", flush=True)
sys.stdin.read()
server.stop(0)
'''


def direct_grpc(total: int, python: str, repeat: int) -> tuple[list[float], str]:
    """Seconds per stream (first chunk to last) from a sender process on `python`."""
    import grpc
    import numpy as np

    from nnrosetta.proto import converter_pb2 as pb

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONPATH"] = str(ROOT / "src")
    p = subprocess.Popen([python, "-c", SENDER, str(total)], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, env=env, text=True)
    try:
        line = p.stdout.readline().split()
        port, version = int(line[1]), line[3]
        times = []
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            call = ch.unary_stream(METHOD, request_serializer=lambda b: b,
                                   response_deserializer=pb.TensorChunk.FromString)
            for _ in range(repeat):
                dst = np.empty(total, dtype=np.uint8)
                t0, got, first = None, 0, 0
                for c in call(b""):
                    n = len(c.data)
                    if t0 is None:
                        t0, first = time.perf_counter(), n
                    dst[c.offset:c.offset + n] = np.frombuffer(c.data, dtype=np.uint8)
                    got += n
                dt = time.perf_counter() - t0
                assert got == total, (got, total)
                times.append(dt * total / max(total - first, 1))
        return times, version
    finally:
        p.stdin.close()
        p.wait(timeout=30)


# --------------------------------------------------------------------------- (iii) gateway


def gateway_stream(model: str, repeat: int) -> list[dict]:
    from nnrosetta.client import GatewayClient

    src = caffe_source(model)
    out = []
    # bytes over gRPC: without a shared folder (the local stack hands tensors over by path)
    with stack(shared=False) as st, GatewayClient(st.gateway_address) as gw:
        dest = Path(tempfile.mkdtemp(prefix="nnr-bench-stream-"))
        try:
            gw.convert("caffe", src, "pytorch", f"file://{dest}/warm", verify={"skip": True},
                       timeout=1800)
            shutil.rmtree(dest / "warm", ignore_errors=True)
            for i in range(repeat):
                t0 = time.perf_counter()
                res = gw.convert("caffe", src, "pytorch", f"file://{dest}/{i}",
                                 verify={"skip": True}, timeout=1800)
                wall = time.perf_counter() - t0
                shutil.rmtree(dest / str(i), ignore_errors=True)
                h = res.report["hops"][0]
                out.append({"ir_weight_bytes": h["ir_weight_bytes"], "stream_s": h["stream_s"],
                            "stream_MBps": h["stream_MBps"], "hops": res.report["hops"],
                            "timings": res.report["timings"], "wall_s": wall})
                log(f"gateway {model} #{i + 1}: {h['ir_weight_bytes'] / 1e6:.0f} MB in "
                    f"{h['stream_s']:.2f}s = {h['stream_MBps']} MB/s (wall {wall:.2f}s)")
        finally:
            shutil.rmtree(dest, ignore_errors=True)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench.streaming", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gib", type=float, default=1.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--model", default="vgg16")
    args = ap.parse_args(argv)
    total = int(args.gib * 2**30)
    zoo(args.model)

    tcp = [raw_tcp(total) for _ in range(args.repeat)]
    log(f"raw TCP: {[f'{total / t / 1e6:.0f} MB/s' for t in tcp]}")
    direct, version = direct_grpc(total, sys.executable, args.repeat)
    log(f"direct gRPC (grpcio {version}): {[f'{total / t / 1e6:.0f} MB/s' for t in direct]}")
    fe_py = ROOT / ".venvs" / "frontend-caffe" / "bin" / "python"
    direct_fe, version_fe = (direct_grpc(total, str(fe_py), args.repeat)
                             if fe_py.exists() else ([], ""))
    if direct_fe:
        log(f"direct gRPC, sender grpcio {version_fe}: "
            f"{[f'{total / t / 1e6:.0f} MB/s' for t in direct_fe]}")
    gw = gateway_stream(args.model, args.repeat)

    tcp_MBps = total / median(tcp) / 1e6
    direct_MBps = total / median(direct) / 1e6
    direct_fe_MBps = total / median(direct_fe) / 1e6 if direct_fe else 0.0
    gw_MBps = median([g["ir_weight_bytes"] / g["stream_s"] for g in gw]) / 1e6
    ratio = gw_MBps / direct_MBps
    rows = [
        ["(i) raw loopback TCP, 4 MiB sends -> recv_into", f"{total / 2**30:g} GiB",
         tcp_MBps, f"{tcp_MBps / tcp_MBps:.0%}"],
        [f"(ii) direct gRPC server-stream (grpcio {version} -> {version})",
         f"{total / 2**30:g} GiB", direct_MBps, f"{direct_MBps / tcp_MBps:.0%}"],
    ]
    if direct_fe:
        rows.append([f"(ii') direct gRPC, sender on frontend-caffe's grpcio {version_fe}",
                     f"{total / 2**30:g} GiB", direct_fe_MBps, f"{direct_fe_MBps / tcp_MBps:.0%}"])
    rows.append([f"(iii) gateway IR stream, {args.model} ToIR -> gateway -> FromIR",
                 f"{gw[0]['ir_weight_bytes'] / 1e6:.0f} MB", gw_MBps,
                 f"{gw_MBps / tcp_MBps:.0%}"])
    print(f"\n### IR streaming rate (median of {args.repeat})\n")
    print(table(["transport", "bytes", "MB/s", "of raw TCP"], rows))
    verdict = "yes" if ratio >= TARGET_RATIO else "**no**"
    print(f"\ngateway / direct gRPC = {ratio:.0%} (target >= {TARGET_RATIO:.0%}: {verdict})")
    data = {"bytes": total, "raw_tcp_s": tcp, "direct_grpc_s": direct,
            "direct_grpc_version": version, "direct_grpc_frontend_venv_s": direct_fe,
            "direct_grpc_frontend_venv_version": version_fe, "gateway": gw,
            "summary": {"raw_tcp_MBps": tcp_MBps, "direct_grpc_MBps": direct_MBps,
                        "direct_grpc_frontend_venv_MBps": direct_fe_MBps,
                        "gateway_MBps": gw_MBps, "gateway_over_direct": ratio,
                        "target": TARGET_RATIO, "meets_target": ratio >= TARGET_RATIO}}
    save("streaming", data)
    return data


if __name__ == "__main__":
    main()
