"""Caffe -> PyTorch conversion time: through the gateway vs the same work in one process.

(a) gateway: a warm local stack (start excluded; one warm-up conversion not counted), file://
    URIs, verification on (the default); the client's wall time of GatewayClient.convert.
(b) in-process: no gRPC, the service Converter classes driven directly in this interpreter:
    frontend-caffe to_ir (graph + weights collected), backend-pytorch from_ir into a temp dir,
    then what the gateway's Conversion._verify does: the frontend's OpenCV run of the source
    files (outputs + pre-softmax layer), the backend's run of the delivered files, the backend's
    format-"ir" run fetching the pre-softmax node, and the comparisons.

overhead % = (gateway - in-process) / in-process; target <= 15 %.

    PYTHONPATH=. .venv/bin/python -m bench.conversion [--models resnet50 vgg16] [--repeat 3]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import shutil
import tempfile
import time
from pathlib import Path

from bench.common import (
    MODELS,
    caffe_source,
    log,
    median,
    rpc_events,
    save,
    service_logs,
    stack,
    table,
    zoo,
)

TARGET_PCT = 15.0


# --------------------------------------------------------------------------- in-process


class InProcess:
    """The frontend and backend Converters in this process, loaded once (as the services do
    at startup, before they report SERVING)."""

    def __init__(self) -> None:
        from nnrosetta_backend_pytorch.service import PyTorchBackend
        from nnrosetta_frontend_caffe.service import CaffeConverter

        self.fe = CaffeConverter()
        self.be = PyTorchBackend()
        self.fe.load()
        self.be.load()

    def convert(self, name: str, publish_to: Path | None = None) -> dict[str, float]:
        import numpy as np

        from nnrosetta.ir.graph import Graph, split_ref
        from nnrosetta.rpc.converter import Model, Progress
        from nnrosetta_gateway import verify

        proto, caffemodel = zoo(name)
        t: dict[str, float] = {}
        t0 = time.perf_counter()
        work = Path(tempfile.mkdtemp(prefix="nnr-bench-"))
        try:
            # -- to_ir: graph + weights, owned copies (as the receiving side of the stream has)
            src = Model(format="caffe", files={"network": str(proto), "weights": str(caffemodel)},
                        names={"network": proto.name, "weights": caffemodel.name},
                        workdir=str(work))
            graph = None
            weights: dict[str, np.ndarray] = {}
            for item in self.fe.to_ir(src):
                if isinstance(item, Graph):
                    graph = item
                elif isinstance(item, tuple):
                    tname, arr = item
                    weights[tname] = np.array(arr, copy=True)
            assert graph is not None
            t["to_ir_s"] = time.perf_counter() - t0

            # -- from_ir into a temp dir
            t1 = time.perf_counter()
            staging = work / "out"
            staging.mkdir()
            files = {}
            for item in self.be.from_ir(graph, weights, {}, str(staging)):
                if not isinstance(item, Progress):
                    fname, path = item
                    files[fname] = path
            assert files, "backend wrote no files"
            t["from_ir_s"] = time.perf_counter() - t1

            # -- verification, as pipeline.Conversion._verify
            t2 = time.perf_counter()
            feeds = verify.make_inputs(graph, 0)
            outs = graph.output_refs()
            nodes = graph.node_map()

            def src_name(ref: str) -> str:
                n = nodes[split_ref(ref)[0]]
                return n.attrs.get("_source_name") or n.name

            extra = []
            for ref in outs:
                n = nodes[split_ref(ref)[0]]
                if n.op == "Softmax" and n.inputs:
                    extra.append(n.inputs[0])
            run_dir = Path(tempfile.mkdtemp(prefix="nnr-run-", dir=work))
            model = Model(format="caffe", files={"network": str(proto),
                                                 "weights": str(caffemodel)},
                          names={"network": proto.name, "weights": caffemodel.name},
                          workdir=str(run_dir))
            vals, _ = self.fe.run(model, dict(feeds), [src_name(r) for r in outs + extra])
            source_vals = dict(vals)
            t["verify_source_run_s"] = time.perf_counter() - t2

            t3 = time.perf_counter()
            delivered = {p.name: str(p) for p in staging.iterdir()}
            run_dir = Path(tempfile.mkdtemp(prefix="nnr-run-", dir=work))
            model = Model(format="pytorch", files=dict(delivered),
                          names={n: n for n in delivered}, workdir=str(run_dir))
            vals, _ = self.be.run(model, dict(feeds), [])
            target_vals = dict(vals)
            t["verify_target_run_s"] = time.perf_counter() - t3

            t4 = time.perf_counter()
            extra_vals = {}
            if extra:
                run_dir = Path(tempfile.mkdtemp(prefix="nnr-run-", dir=work))
                model = Model(format="ir", graph=graph, weights=weights, workdir=str(run_dir))
                vals, _ = self.be.run(model, dict(feeds), list(extra))
                extra_vals = dict(vals)
            t["verify_ir_run_s"] = time.perf_counter() - t4

            t5 = time.perf_counter()
            checks = [verify.compare(r, src_name(r), source_vals[src_name(r)], target_vals[r],
                                     verify.DEFAULT_TOLERANCE) for r in outs]
            checks += [verify.compare(r, src_name(r), source_vals[src_name(r)], extra_vals[r],
                                      verify.DEFAULT_TOLERANCE) for r in extra if r in extra_vals]
            bad = [c.to_dict() for c in checks if not c.passed]
            if bad:
                raise AssertionError(f"in-process verification failed: {bad}")
            t["verify_compare_s"] = time.perf_counter() - t5
            t["verify_s"] = time.perf_counter() - t2
            t["total_s"] = time.perf_counter() - t0

            # -- publish (not part of the brief's in-process steps; timed on the side)
            if publish_to is not None:
                t6 = time.perf_counter()
                publish_to.mkdir(parents=True, exist_ok=True)
                for p in staging.iterdir():
                    shutil.copyfile(p, publish_to / p.name)
                t["publish_s"] = time.perf_counter() - t6
            t["weight_bytes"] = float(sum(a.nbytes for a in weights.values()))
            return t
        finally:
            shutil.rmtree(work, ignore_errors=True)


def run_inprocess(models: list[str], repeat: int, profile: bool) -> dict[str, dict]:
    ip = InProcess()
    out = {}
    for name in models:
        zoo(name)
        dest = Path(tempfile.mkdtemp(prefix="nnr-bench-pub-"))
        try:
            log(f"in-process {name}: warm-up")
            ip.convert(name)
            runs = []
            for i in range(repeat):
                gc.collect()
                r = ip.convert(name, publish_to=dest / str(i))
                shutil.rmtree(dest / str(i), ignore_errors=True)
                log(f"in-process {name} #{i + 1}: {r['total_s']:.2f}s  "
                    + " ".join(f"{k}={v:.2f}" for k, v in r.items()
                               if k.endswith("_s") and k != "total_s"))
                runs.append(r)
            if profile:
                prof = cProfile.Profile()
                prof.enable()
                ip.convert(name)
                prof.disable()
                path = Path(__file__).parent / "results" / f"conversion-inprocess-{name}.prof"
                path.parent.mkdir(parents=True, exist_ok=True)
                prof.dump_stats(path)
                st = pstats.Stats(prof)
                st.sort_stats("cumulative")
                log(f"profile written to {path}")
        finally:
            shutil.rmtree(dest, ignore_errors=True)
        keys = [k for k in runs[0] if k != "weight_bytes"]
        out[name] = {"runs": runs, "median": {k: median([r[k] for r in runs]) for k in keys},
                     "weight_bytes": int(runs[0]["weight_bytes"])}
    return out


# --------------------------------------------------------------------------- gateway


def run_gateway(models: list[str], repeat: int, shared: bool = True) -> dict[str, dict]:
    from nnrosetta.client import GatewayClient

    out = {}
    with stack(shared=shared) as st, GatewayClient(st.gateway_address) as gw:
        for name in models:
            src = caffe_source(name)
            dest = Path(tempfile.mkdtemp(prefix="nnr-bench-gw-"))
            try:
                log(f"gateway {name}: warm-up")
                gw.convert("caffe", src, "pytorch", f"file://{dest}/warm", timeout=1800)
                shutil.rmtree(dest / "warm", ignore_errors=True)
                runs = []
                logs = service_logs(st)
                for i in range(repeat):
                    since = time.time()
                    t0 = time.perf_counter()
                    res = gw.convert("caffe", src, "pytorch", f"file://{dest}/{i}", timeout=1800)
                    wall = time.perf_counter() - t0
                    shutil.rmtree(dest / str(i), ignore_errors=True)
                    assert res.verified, res.report.get("verification")
                    rep = res.report
                    rpcs: dict[str, dict[str, float]] = {}
                    for svc, path in logs.items():
                        for ev in rpc_events(path, since):
                            d = rpcs.setdefault(f"{svc} {ev.get('method')}", {"n": 0, "s": 0.0})
                            d["n"] += 1
                            d["s"] = round(d["s"] + float(ev.get("s", 0.0)), 4)
                    runs.append({"wall_s": wall, "timings": rep["timings"], "hops": rep["hops"],
                                 "verification_status": rep["verification"]["status"],
                                 "source_run_s": float(rep["verification"]["source_runtime"]
                                                       .get("run_s", "nan")),
                                 "target_run_s": float(rep["verification"]["target_runtime"]
                                                       .get("run_s", "nan")),
                                 "service_rpc_s": rpcs})
                    log(f"gateway {name} #{i + 1}: {wall:.2f}s  timings={rep['timings']}  "
                        f"hops=" + ", ".join(f"{h['service']} {h['seconds']}s"
                                             for h in rep["hops"])
                        + f"\n    service-side rpc time: {rpcs}")
            finally:
                shutil.rmtree(dest, ignore_errors=True)
            out[name] = {"runs": runs, "median_wall_s": median([r["wall_s"] for r in runs]),
                         "median_timings": {k: median([r["timings"].get(k, 0.0) for r in runs])
                                            for k in runs[0]["timings"]}}
    return out


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench.conversion", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true",
                    help="also cProfile one in-process conversion per model")
    ap.add_argument("--only", choices=["gateway", "inprocess"])
    ap.add_argument("--no-bytes", action="store_true",
                    help="skip the second gateway run without a shared folder")
    args = ap.parse_args(argv)
    for name in args.models:
        zoo(name)
    # In-process first: measured while no service process exists (on 2 cores a stack that is
    # still shutting down skews the torch timings).
    inproc = run_inprocess(args.models, args.repeat, args.profile) \
        if args.only != "gateway" else {}
    gateway = run_gateway(args.models, args.repeat) if args.only != "inprocess" else {}
    # the same through a stack without a shared folder: every byte over gRPC (between hosts)
    grpc_only = run_gateway(args.models, args.repeat, shared=False) \
        if args.only != "inprocess" and not args.no_bytes else {}
    rows, summary = [], {}
    for name in args.models:
        if name not in gateway or name not in inproc:
            continue
        ip = inproc[name]["median"]
        g = gateway[name]["median_wall_s"]
        gt = gateway[name]["median_timings"]
        ov = (g - ip["total_s"]) / ip["total_s"] * 100
        ov_pub = (g - ip["total_s"] - ip.get("publish_s", 0.0)) / \
            (ip["total_s"] + ip.get("publish_s", 0.0)) * 100
        gb = grpc_only[name]["median_wall_s"] if name in grpc_only else None
        ov_b = (gb - ip["total_s"]) / ip["total_s"] * 100 if gb is not None else None
        summary[name] = {"inprocess_s": ip["total_s"], "gateway_s": g, "overhead_pct": ov,
                         "gateway_bytes_over_grpc_s": gb, "overhead_bytes_over_grpc_pct": ov_b,
                         "inprocess_with_publish_s": ip["total_s"] + ip.get("publish_s", 0.0),
                         "overhead_vs_inprocess_with_publish_pct": ov_pub,
                         "target_pct": TARGET_PCT, "meets_target": ov <= TARGET_PCT,
                         "weight_MB": inproc[name]["weight_bytes"] / 1e6}
        rows.append([name, f"{inproc[name]['weight_bytes'] / 1e6:.0f}", ip["total_s"], g,
                     f"{ov:+.1f}%", f"{ov_pub:+.1f}%",
                     "yes" if ov <= TARGET_PCT else "**no**",
                     "-" if gb is None else f"{gb:.3f} ({ov_b:+.1f}%)"])
    print("\n### Caffe -> PyTorch conversion time (median of "
          f"{args.repeat}; warm stack; verification on)\n")
    print(table(["model", "weights MB", "in-process s", "gateway s", "overhead",
                 "overhead incl. publish", f"<= {TARGET_PCT:.0f}%",
                 "gateway, no shared folder s"], rows))
    print("\n(gateway: the local stack, which hands files over by path through its shared "
          "folder;\n no shared folder: every file and tensor crosses gRPC as bytes, as "
          "between hosts)")
    brk = []
    for name in args.models:
        if name in inproc:
            m = inproc[name]["median"]
            brk.append([name, "in-process", m["to_ir_s"] + m["from_ir_s"], m["verify_s"],
                        m["verify_source_run_s"], m["verify_target_run_s"], m["verify_ir_run_s"],
                        m.get("publish_s", 0.0)])
        if name in gateway:
            gt = gateway[name]["median_timings"]
            brk.append([name, "gateway", gt.get("total_s", 0) - gt.get("verify_s", 0)
                        - gt.get("fetch_s", 0), gt.get("verify_s", 0),
                        median([r["source_run_s"] for r in gateway[name]["runs"]]),
                        median([r["target_run_s"] for r in gateway[name]["runs"]]), "-",
                        gt.get("publish_s", 0.0)])
    print("\nBreakdown (medians, s; gateway 'run' columns are the service-side run_s; the\n"
          "gateway's ir-run is inside verify):\n")
    print(table(["model", "path", "to_ir+from_ir", "verify", "source run", "target run",
                 "ir run", "publish"], brk))
    data = {"repeat": args.repeat, "summary": summary, "inprocess": inproc, "gateway": gateway,
            "gateway_bytes_over_grpc": grpc_only}
    save("conversion", data)
    return data


if __name__ == "__main__":
    main()
