"""Memory of each service around one conversion, a fresh stack per model.

Idle RSS (VmRSS) of every service after the stack is up, then one Caffe -> PyTorch conversion
(verification on), then each service's peak RSS (VmHWM; the kernel's high-water mark, so it
also covers start-up). Target per service: peak <= 2.5 x weight size + idle.

    PYTHONPATH=. .venv/bin/python -m bench.memory [--models vgg16 resnet50]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import threading
import time
from pathlib import Path

from bench.common import (
    caffe_source,
    log,
    proc_status_kb,
    rpc_events,
    save,
    service_logs,
    service_pids,
    stack,
    table,
    zoo,
)

FACTOR = 2.5


class Sampler(threading.Thread):
    """VmRSS of every service every 20 ms, to tell which RPC reaches the peak."""

    def __init__(self, pids: dict[str, int]):
        super().__init__(daemon=True)
        self.pids = pids
        self.samples: list[tuple[float, dict[str, int]]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            snap = {}
            for n, p in self.pids.items():
                try:
                    snap[n] = proc_status_kb(p, "VmRSS")
                except (OSError, KeyError):
                    pass
            self.samples.append((time.time(), snap))
            time.sleep(0.02)


def peak_by_rpc(samples, logs: dict[str, str], since: float) -> dict[str, dict[str, float]]:
    """service -> {rpc method: max VmRSS MiB while that RPC's handler ran}."""
    out: dict[str, dict[str, float]] = {}
    for svc, path in logs.items():
        for ev in rpc_events(path, since):
            end = float(ev["ts"])
            start = end - float(ev.get("s", 0.0))
            vals = [snap[svc] for t, snap in samples if start - 0.02 <= t <= end + 0.02
                    and svc in snap]
            if vals:
                m = str(ev.get("method"))
                d = out.setdefault(svc, {})
                d[m] = max(d.get(m, 0.0), max(vals) / 1024)
    return out


def measure(model: str) -> dict:
    from nnrosetta.client import GatewayClient

    src = caffe_source(model)
    with stack() as st, GatewayClient(st.gateway_address) as gw:
        pids = service_pids(st)
        time.sleep(1.0)
        idle = {n: proc_status_kb(p, "VmRSS") for n, p in pids.items()}
        idle_hwm = {n: proc_status_kb(p, "VmHWM") for n, p in pids.items()}
        dest = Path(tempfile.mkdtemp(prefix="nnr-bench-mem-"))
        sampler = Sampler(pids)
        since = time.time()
        sampler.start()
        try:
            t0 = time.perf_counter()
            res = gw.convert("caffe", src, "pytorch", f"file://{dest}/out", timeout=1800)
            wall = time.perf_counter() - t0
        finally:
            sampler.stop.set()
            sampler.join()
            shutil.rmtree(dest, ignore_errors=True)
        by_rpc = peak_by_rpc(sampler.samples, service_logs(st), since)
        peak = {n: proc_status_kb(p, "VmHWM") for n, p in pids.items()}
        after = {n: proc_status_kb(p, "VmRSS") for n, p in pids.items()}
    weight = res.report["graph"]["weight_bytes"]
    log(f"{model}: converted in {wall:.1f}s (verified={res.verified}); "
        f"weights {weight / 1e6:.0f} MB")
    services = {}
    for n in pids:
        i_mb, p_mb, w_mb = idle[n] / 1024, peak[n] / 1024, weight / 2**20
        services[n] = {"idle_MB": i_mb, "idle_hwm_MB": idle_hwm[n] / 1024, "peak_MB": p_mb,
                       "after_MB": after[n] / 1024, "weight_MB": w_mb,
                       "peak_over_weight": p_mb / w_mb,
                       "above_idle_over_weight": (p_mb - i_mb) / w_mb,
                       "meets_target": p_mb <= FACTOR * w_mb + i_mb}
    for n, d in by_rpc.items():
        log(f"{model} {n}: max VmRSS MiB during each RPC handler: "
            + ", ".join(f"{m} {v:.0f}" for m, v in sorted(d.items(), key=lambda x: -x[1])))
    return {"weight_bytes": weight, "verified": res.verified, "wall_s": wall,
            "services": services, "peak_rss_MB_by_rpc": by_rpc}


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["vgg16", "resnet50"])
    args = ap.parse_args(argv)
    out = {}
    for m in args.models:
        zoo(m)
        out[m] = measure(m)
    rows = []
    for m, r in out.items():
        for n, s in r["services"].items():
            rows.append([m, n, f"{s['idle_MB']:.0f}", f"{s['peak_MB']:.0f}",
                         f"{s['weight_MB']:.0f}", f"{s['peak_over_weight']:.2f}",
                         f"{s['above_idle_over_weight']:.2f}",
                         "yes" if s["meets_target"] else "**no**"])
    print("\n### Service memory, one conversion on a fresh stack (MiB)\n")
    print(table(["model", "service", "idle RSS", "peak RSS (HWM)", "weights", "peak/weights",
                 "(peak-idle)/weights", f"peak <= {FACTOR} x weights + idle"], rows))
    save("memory", {"factor": FACTOR, "models": out})
    return out


if __name__ == "__main__":
    main()
