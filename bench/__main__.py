"""`python -m bench`: conversion, streaming, memory, ONNX and TensorFlow benchmarks, then one
summary table.

Each benchmark runs in its own interpreter (so one's memory and threads do not disturb the
next) and writes bench/results/<name>.json; the summary is read back from those files.

    PYTHONPATH=. .venv/bin/python -m bench [--only conversion streaming memory onnx tf]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from bench.common import RESULTS, ROOT, log, save, table

BENCHES = ("conversion", "streaming", "memory", "onnx", "tf")


def summary_rows() -> list[list[object]]:
    rows: list[list[object]] = []

    def load(name: str) -> dict | None:
        p = RESULTS / f"{name}.json"
        return json.loads(p.read_text()) if p.is_file() else None

    conv = load("conversion")
    for m, s in (conv or {}).get("summary", {}).items():
        rows.append(["conversion", m, f"in-process {s['inprocess_s']:.2f}s, gateway "
                     f"{s['gateway_s']:.2f}s", f"overhead {s['overhead_pct']:+.1f}%",
                     f"<= {s['target_pct']:.0f}%", "yes" if s["meets_target"] else "**no**"])
    st = load("streaming")
    if st:
        s = st["summary"]
        rows.append(["streaming", "vgg16 IR", f"raw TCP {s['raw_tcp_MBps']:.0f} MB/s, direct "
                     f"gRPC {s['direct_grpc_MBps']:.0f} MB/s, gateway {s['gateway_MBps']:.0f} "
                     "MB/s", f"gateway/direct {s['gateway_over_direct']:.0%}",
                     f">= {s['target']:.0%}", "yes" if s["meets_target"] else "**no**"])
    mem = load("memory")
    for m, r in (mem or {}).get("models", {}).items():
        for n, s in r["services"].items():
            rows.append(["memory", f"{m} {n}", f"idle {s['idle_MB']:.0f} MiB, peak "
                         f"{s['peak_MB']:.0f} MiB, weights {s['weight_MB']:.0f} MiB",
                         f"peak/weights {s['peak_over_weight']:.2f}",
                         f"<= {mem['factor']} x w + idle",
                         "yes" if s["meets_target"] else "**no**"])
    rows += onnx_rows(load("onnx"))
    rows += tf_rows(load("tf"))
    return rows


def onnx_rows(data: dict | None) -> list[list[object]]:
    """bench.onnx: nnrosetta vs onnx2torch (conformance, ResNet-50)."""
    rows: list[list[object]] = []
    c = (data or {}).get("conformance")
    if c:
        n, o, total = c["nnrosetta"], c["onnx2torch"], c["count"]
        pt = n["pytorch"]["passed"]
        rows.append(["onnx", f"{total} float32 node tests -> PyTorch",
                     f"nnrosetta {pt} (ONNX->IR->ONNX {n['onnx']['passed']}), onnx2torch "
                     f"{o['passed']}, onnxruntime {c['onnxruntime']['passed']}",
                     f"conversion {n['pytorch']['conversion_s']:.1f}s vs "
                     f"{o['conversion_s']:.1f}s", ">= 600", "yes" if pt >= 600 else "**no**"])
    r = (data or {}).get("resnet50")
    if r:
        a, b = r["nnrosetta"], r["onnx2torch"]
        rows.append(["onnx", "resnet50 ONNX -> PyTorch",
                     f"nnrosetta {a['conversion_s']:.2f}s, onnx2torch {b['conversion_s']:.2f}s",
                     f"max rel err {a['max_rel_err']:.1e} vs {b['max_rel_err']:.1e}",
                     "-", "-"])
    return rows


def tf_rows(data: dict | None) -> list[list[object]]:
    """bench.tf: Keras -> PyTorch, nnrosetta (warm gateway) vs tf2onnx + onnx2torch."""
    rows: list[list[object]] = []
    for m, r in (data or {}).get("models", {}).items():
        p, n, q = r.get("peer"), r.get("nnrosetta"), r.get("ratios")
        if p and n and q:
            rows.append(["tf", f"{m} Keras -> PyTorch",
                         f"nnrosetta {n['conversion_s']:.2f}s {n['peak_sum_MB']:.0f} MiB, "
                         f"tf2onnx+onnx2torch {p['chain']['conversion_s']:.2f}s "
                         f"{p['chain']['peak_MB']:.0f} MiB",
                         f"time x{q['time']:.2f}, memory x{q['peak']:.2f}, error "
                         f"x{q['error']:.2f}", "<= x0.25, x0.25, x1",
                         "yes" if q["meets_target"] else "**no**"])
        elif p:
            rows.append(["tf", f"{m} Keras -> PyTorch",
                         f"tf2onnx+onnx2torch {p['chain']['conversion_s']:.2f}s "
                         f"{p['chain']['peak_MB']:.0f} MiB, err "
                         f"{p['chain']['max_rel_err']:.1e}", "nnrosetta not measured", "-", "-"])
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=BENCHES, default=list(BENCHES))
    ap.add_argument("--summary", action="store_true", help="only print the summary of the "
                    "results already in bench/results/")
    args = ap.parse_args(argv)
    rc = 0
    if not args.summary:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH"))
                                            if p)
        for name in args.only:
            log(f"=== bench.{name} ===")
            r = subprocess.call([sys.executable, "-m", f"bench.{name}"], cwd=str(ROOT), env=env)
            if r != 0:
                log(f"bench.{name} exited with {r}")
                rc = rc or r
    rows = summary_rows()
    print("\n## nnrosetta benchmarks\n")
    print(table(["bench", "case", "measured", "metric", "target", "met"], rows))
    save("summary", {"rows": rows})
    return rc


if __name__ == "__main__":
    sys.exit(main())
