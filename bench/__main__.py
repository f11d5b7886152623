"""`python -m bench`: conversion, streaming and memory benchmarks, then one summary table.

Each benchmark runs in its own interpreter (so one's memory and threads do not disturb the
next) and writes bench/results/<name>.json; the summary is read back from those files.

    PYTHONPATH=. .venv/bin/python -m bench [--only conversion streaming memory]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from bench.common import RESULTS, ROOT, log, save, table

BENCHES = ("conversion", "streaming", "memory")


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
