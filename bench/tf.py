"""Keras -> PyTorch: nnrosetta (warm gateway) against tf2onnx + onnx2torch, in the same run.

Models: keras.applications ResNet50 and MobileNetV2, 224x224, random seeded weights
(tests/keras_zoo: BatchNorm statistics and biases randomised so the logits are of order one),
saved once as ``.keras`` (Keras 3); one seeded N(0, 1) input; the reference is TensorFlow's own
output of the loaded ``.keras`` (``model(x, training=False)``).

Peer chain, each step in a fresh interpreter (``python -m bench.tf --step ...``), --repeat
times (median):
  1. tf2onnx 1.17.0 (TensorFlow 2.21 / Keras 3 of .venv): ``keras.models.load_model`` of the
     ``.keras`` + ``tf2onnx.convert.from_keras(opset 17, output_path=...)``;
  2. onnx2torch 1.5.15: ``onnx.load`` + ``onnx2torch.convert`` + ``torch.save(module)``.
  conversion s: from the source file to the written file, in the process (imports excluded:
  a cold process's wall time is recorded too); peak RSS: the process's
  ``getrusage(RUSAGE_SELF).ru_maxrss`` at the end of the step (imports included, as a
  service's is); chain time = the sum, chain peak = the larger step (they run one after the
  other). Error: the torch module's output (and onnxruntime's, for the ONNX in between) vs
  TensorFlow's. Import floor: the step's VmRSS once all of its imports are done (tf2onnx:
  tensorflow, keras, tf2onnx and tf2onnx.convert, which tf2onnx would import lazily during the
  conversion; onnx2torch: onnx, torch, onnx2torch), before any model is loaded; above floor =
  peak - floor, and the chain's is the larger step's, like its peak.

nnrosetta: a local stack of frontend-tf, backend-pytorch and the gateway, fresh per model;
one warm-up conversion, then --repeat conversions (verification on, the default) of the
``.keras`` to PyTorch: the client's wall time of GatewayClient.convert (all artifacts:
model.py, weights.pth and the TorchScript compile, which the chain does not make; --repeat more
with ``artifacts=code``, model.py + weights.pth, like the chain's pickled module, are timed
too); peak RSS: VmHWM of
frontend-tf and backend-pytorch, reset before each measured conversion (``/proc/PID/clear_refs``
5; a 20 ms VmRSS sampler where that is refused), summed (both are alive at once). Error: the
delivered model.py + weights.pth run in a fresh interpreter as a user would (``Model()``,
``load_state_dict``) on the same input (NCHW) vs TensorFlow's. One more conversion with
verification skipped is timed for information. Idle: each service's VmRSS about 1 s after the
stack is up (every service's health says SERVING, which it does once ``load()`` has imported
its framework: TensorFlow / Keras, torch) and before the warm-up conversion; above floor =
summed peak - summed idle (so what the warm-up leaves resident counts as the conversion's).

Target: nnrosetta <= 1/4 of the chain's time and <= 1/4 of its peak memory, error no higher.
Both peaks count imports, and TensorFlow (~500 MiB) + torch (~220 MiB), loaded in the warm
services, are more than a quarter of the chain's MobileNetV2 peak (~1500 MiB, the tf2onnx
step's); so a second measure, "above import floor" (above), compares only what a conversion
adds, printed beside the peak with its own ratio. The target stays on the peak.

tf2onnx is installed with ``--no-deps`` into .venvs/bench-tf2onnx (on first use, like
onnx2torch in bench/onnx.py): its dependencies (numpy, onnx, protobuf, flatbuffers, requests)
and TensorFlow 2.21 are .venv's; tf2onnx 1.17.0 runs under TensorFlow 2.21 / Keras 3.

    PYTHONPATH=. .venv/bin/python -m bench.tf [--models resnet50 mobilenetv2] [--repeat 3]
                                              [--only peer|nnrosetta]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import (
    ROOT,
    log,
    median,
    proc_status_kb,
    save,
    service_logs,
    service_pids,
    table,
)

T2O_VERSION = "1.17.0"
T2O_DIR = ROOT / ".venvs" / "bench-tf2onnx"
OPSET = 17
MODELS = ("resnet50", "mobilenetv2")
SERVICES = ("frontend-tf", "backend-pytorch")
TARGET_TIME = TARGET_MEM = 0.25
STEP_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "", "PYTHONWARNINGS": "ignore"}


# --------------------------------------------------------------------------- installs


def ensure_tf2onnx() -> None:
    """tf2onnx, installed on first use into .venvs/bench-tf2onnx (no dependencies)."""
    if not (T2O_DIR / "tf2onnx").is_dir():
        log(f"installing tf2onnx=={T2O_VERSION} into {T2O_DIR.relative_to(ROOT)}")
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                               "--target", str(T2O_DIR), f"tf2onnx=={T2O_VERSION}"])


def ensure_onnx2torch() -> None:
    from bench.onnx import O2T_DIR, O2T_VERSION

    if not (O2T_DIR / "onnx2torch").is_dir():
        log(f"installing onnx2torch=={O2T_VERSION} into {O2T_DIR.relative_to(ROOT)}")
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                               "--target", str(O2T_DIR), f"onnx2torch=={O2T_VERSION}"])


# --------------------------------------------------------------------------- steps (children)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _floor_mb() -> float:
    """This process's resident set now (VmRSS, MiB): taken once a step's imports are done and
    before it loads any model, the floor its "above import floor" figure is counted from."""
    return proc_status_kb(os.getpid(), "VmRSS") / 1024


def _rel_err(got: np.ndarray, ref: np.ndarray) -> dict[str, float]:
    err = float(np.abs(np.asarray(got, np.float64).reshape(ref.shape) - ref).max())
    return {"max_abs_err": err, "max_rel_err": err / float(np.abs(ref).max())}


def step_prepare(work: Path, name: str) -> dict:
    """Build (cached) the .keras, write the input and TensorFlow's output on it."""
    import keras

    from tests.keras_zoo import models as kz

    t0 = time.perf_counter()
    path = kz.ensure(name, "keras")
    build_s = time.perf_counter() - t0
    x = kz.sample_input(name)
    model = keras.models.load_model(path)
    ref = np.asarray(model(x, training=False))
    np.save(work / "input.npy", x)
    np.save(work / "ref.npy", ref)
    return {"keras": str(path), "build_s": build_s, "keras_MB": path.stat().st_size / 1e6,
            "params": int(model.count_params()), "output_absmax": float(np.abs(ref).max()),
            "output_std": float(ref.std())}


def step_tf2onnx(work: Path, keras_path: str) -> dict:
    t0 = time.perf_counter()
    sys.path.append(str(T2O_DIR))
    import keras
    import tensorflow as tf
    import tf2onnx

    t_convert = time.perf_counter()
    import tf2onnx.convert  # tf2onnx imports it lazily (on attribute access): import it here

    out = {"import_s": time.perf_counter() - t0, "import_peak_MB": _peak_mb(),
           "floor_MB": _floor_mb(), "tf2onnx_convert_import_s": time.perf_counter() - t_convert,
           "tensorflow": tf.__version__, "keras": keras.__version__,
           "tf2onnx": tf2onnx.__version__}
    onnx_path = work / "model.onnx"
    t1 = time.perf_counter()
    model = keras.models.load_model(keras_path)
    spec = tuple(tf.TensorSpec((1, *t.shape[1:]), t.dtype, name=t.name.split(":")[0])
                 for t in model.inputs)
    tf2onnx.convert.from_keras(model, input_signature=spec, opset=OPSET,
                               output_path=str(onnx_path))
    out["conversion_s"] = time.perf_counter() - t1
    out["peak_MB"] = _peak_mb()
    out["above_floor_MB"] = out["peak_MB"] - out["floor_MB"]
    out["onnx_MB"] = onnx_path.stat().st_size / 1e6
    # the ONNX in between, run by onnxruntime (after the measurements)
    import onnxruntime as ort

    x, ref = np.load(work / "input.npy"), np.load(work / "ref.npy")
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
    got = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    out["onnxruntime"] = _rel_err(got, ref)
    return out


def step_onnx2torch(work: Path) -> dict:
    t0 = time.perf_counter()
    import onnx
    import torch

    from bench.onnx import O2T_VERSION, _o2t_convert, _o2t_run, onnx2torch

    o2t = onnx2torch()
    out = {"import_s": time.perf_counter() - t0, "import_peak_MB": _peak_mb(),
           "floor_MB": _floor_mb(), "onnx2torch": O2T_VERSION, "torch": torch.__version__}
    t1 = time.perf_counter()
    module = _o2t_convert(o2t, onnx.load(str(work / "model.onnx")))
    out["convert_s"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    torch.save(module, work / "model.pt")
    out["save_s"] = time.perf_counter() - t2
    out["conversion_s"] = time.perf_counter() - t1
    out["peak_MB"] = _peak_mb()
    out["above_floor_MB"] = out["peak_MB"] - out["floor_MB"]
    x, ref = np.load(work / "input.npy"), np.load(work / "ref.npy")
    out.update(_rel_err(_o2t_run(module, [x])[0], ref))
    return out


def step_torch_run(work: Path, folder: str) -> dict:
    """The delivered model.py + weights.pth, as a user runs them (input NCHW)."""
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location("nnr_delivered_model",
                                                  str(Path(folder) / "model.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    net = mod.Model()
    net.load_state_dict(torch.load(str(Path(folder) / "weights.pth"), weights_only=True))
    net.eval()
    x, ref = np.load(work / "input.npy"), np.load(work / "ref.npy")
    with torch.no_grad():
        y = net(torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))))
    y = y[0] if isinstance(y, (tuple, list)) else y
    return {"inputs": list(mod.INPUTS), "outputs": list(mod.OUTPUTS),
            **_rel_err(y.numpy(), ref)}


def child(step: str, work: Path, arg: str | None) -> dict:
    """Run one step in a fresh interpreter; its result dict (plus the process wall time)."""
    res = work / f"{step}.json"
    res.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "bench.tf", "--step", step, "--work", str(work)]
    if arg is not None:
        cmd += ["--arg", arg]
    env = dict(os.environ, **STEP_ENV)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, cwd=str(ROOT), env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode != 0 or not res.is_file():
        raise RuntimeError(f"step {step} failed (rc {r.returncode}):\n{r.stderr[-3000:]}")
    return {**json.loads(res.read_text()), "process_wall_s": wall}


# --------------------------------------------------------------------------- peer chain


def run_peer(name: str, work: Path, keras_path: str, repeat: int) -> dict:
    runs: dict[str, list[dict]] = {"tf2onnx": [], "onnx2torch": []}
    for i in range(repeat):
        a = child("tf2onnx", work, keras_path)
        b = child("onnx2torch", work, None)
        runs["tf2onnx"].append(a)
        runs["onnx2torch"].append(b)
        log(f"peer {name} #{i + 1}: tf2onnx {a['conversion_s']:.2f}s (process "
            f"{a['process_wall_s']:.1f}s) peak {a['peak_MB']:.0f} MiB (floor "
            f"{a['floor_MB']:.0f}); onnx2torch {b['conversion_s']:.2f}s (process "
            f"{b['process_wall_s']:.1f}s) peak {b['peak_MB']:.0f} MiB (floor "
            f"{b['floor_MB']:.0f}); err {b['max_rel_err']:.2e}")
    out: dict = {}
    for s, rs in runs.items():
        keys = [k for k, v in rs[0].items() if isinstance(v, (int, float))]
        out[s] = {k: median([r[k] for r in rs]) for k in keys}
        out[s].update({k: v for k, v in rs[-1].items() if not isinstance(v, (int, float))})
    a, b = out["tf2onnx"], out["onnx2torch"]
    out["chain"] = {"conversion_s": a["conversion_s"] + b["conversion_s"],
                    "process_wall_s": a["process_wall_s"] + b["process_wall_s"],
                    "peak_MB": max(a["peak_MB"], b["peak_MB"]),
                    "peak_sum_MB": a["peak_MB"] + b["peak_MB"],
                    # like the peak: the larger step's (the steps run one after the other)
                    "above_floor_MB": max(a["above_floor_MB"], b["above_floor_MB"]),
                    "above_floor_step": ("tf2onnx" if a["above_floor_MB"] >= b["above_floor_MB"]
                                         else "onnx2torch"),
                    "max_abs_err": b["max_abs_err"], "max_rel_err": b["max_rel_err"]}
    out["runs"] = runs
    return out


# --------------------------------------------------------------------------- nnrosetta


def _reset_hwm(pid: int) -> bool:
    """Reset the kernel's peak-RSS mark of `pid` (Linux >= 4.0); False where refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return proc_status_kb(pid, "VmHWM") <= proc_status_kb(pid, "VmRSS") + 1024


def run_nnrosetta(name: str, work: Path, keras_path: str, repeat: int, *,
                  fmt: str = "keras", src: dict[str, str] | None = None,
                  services: tuple[str, ...] = SERVICES) -> dict:
    from bench.memory import Sampler
    from nnrosetta.client import GatewayClient
    from nnrosetta.stack import LocalStack

    src = src or {"network": f"file://{keras_path}"}
    dest = Path(tempfile.mkdtemp(prefix="nnr-bench-tf-"))
    t0 = time.perf_counter()
    try:
        with LocalStack(services=list(services), env={"LOG_LEVEL": "INFO"},
                        progress=None) as st, GatewayClient(st.gateway_address) as gw:
            log(f"nnrosetta {name}: stack up in {time.perf_counter() - t0:.1f}s")
            pids = {n: p for n, p in service_pids(st).items() if n in services}
            time.sleep(1.0)
            idle = {n: proc_status_kb(p, "VmRSS") / 1024 for n, p in pids.items()}
            log(f"nnrosetta {name}: warm-up")
            t1 = time.perf_counter()
            gw.convert(fmt, src, "pytorch", f"file://{dest}/warm", timeout=1800)
            warm_s = time.perf_counter() - t1
            shutil.rmtree(dest / "warm", ignore_errors=True)
            runs = []
            for i in range(repeat):
                hwm_ok = all(_reset_hwm(p) for p in pids.values())
                sampler = Sampler(pids)
                sampler.start()
                t1 = time.perf_counter()
                try:
                    res = gw.convert(fmt, src, "pytorch", f"file://{dest}/{i}",
                                     timeout=1800)
                finally:
                    wall = time.perf_counter() - t1
                    sampler.stop.set()
                    sampler.join()
                sampled = {n: max((s[n] for _, s in sampler.samples if n in s), default=0)
                           / 1024 for n in pids}
                hwm = {n: proc_status_kb(p, "VmHWM") / 1024 for n, p in pids.items()}
                peak = hwm if hwm_ok else sampled
                ver = res.report.get("verification", {})
                runs.append({"wall_s": wall, "verified": res.verified,
                             "peak_MB": peak, "peak_sum_MB": sum(peak.values()),
                             "peak_source": "VmHWM" if hwm_ok else "VmRSS sampled every 20 ms",
                             "sampled_MB": sampled, "timings": res.report.get("timings", {}),
                             "verification_status": ver.get("status"),
                             "verification": ver})
                log(f"nnrosetta {name} #{i + 1}: {wall:.2f}s verified={res.verified} peak "
                    + ", ".join(f"{n} {v:.0f}" for n, v in peak.items()) + " MiB "
                    f"({runs[-1]['peak_source']}); timings {res.report.get('timings')}")
                if i < repeat - 1:
                    shutil.rmtree(dest / str(i), ignore_errors=True)
            code_runs = []
            for i in range(repeat):   # like the chain's output: a PyTorch module, no TorchScript
                t1 = time.perf_counter()
                res = gw.convert(fmt, src, "pytorch", f"file://{dest}/code{i}",
                                 options={"artifacts": "code"}, timeout=1800)
                code_runs.append(time.perf_counter() - t1)
                assert res.verified, res.report.get("verification")
                shutil.rmtree(dest / f"code{i}", ignore_errors=True)
            log(f"nnrosetta {name}: verified, model.py + weights.pth only: "
                + ", ".join(f"{t:.2f}s" for t in code_runs))
            t1 = time.perf_counter()
            gw.convert(fmt, src, "pytorch", f"file://{dest}/noverify",
                       verify={"skip": True}, timeout=1800)
            noverify_s = time.perf_counter() - t1
            logs = service_logs(st)
        last = dest / str(repeat - 1)
        check = child("torch_run", work, str(last))
        files_mb = sum(p.stat().st_size for p in last.iterdir() if p.is_file()) / 1e6
    finally:
        shutil.rmtree(dest, ignore_errors=True)
    log(f"nnrosetta {name}: delivered model vs TensorFlow: rel err {check['max_rel_err']:.2e}")
    peak_mb = {n: median([r["peak_MB"][n] for r in runs]) for n in pids}
    peak_sum = median([r["peak_sum_MB"] for r in runs])
    # above the import floor: the peak less the idle VmRSS (read 1 s after every service said
    # SERVING, i.e. with TensorFlow / torch imported, and before the warm-up conversion)
    above = {n: peak_mb[n] - idle[n] for n in pids}
    log(f"nnrosetta {name}: above idle "
        + ", ".join(f"{n} {v:.0f}" for n, v in above.items()) + " MiB")
    return {"conversion_s": median([r["wall_s"] for r in runs]),
            "code_only_s": median(code_runs), "code_only_runs_s": code_runs,
            "noverify_s": noverify_s, "warmup_s": warm_s,
            "peak_MB": peak_mb, "peak_sum_MB": peak_sum,
            "idle_MB": idle, "idle_sum_MB": sum(idle.values()),
            "above_floor_MB": peak_sum - sum(idle.values()),
            "above_floor_by_service_MB": above,
            "verified": all(r["verified"] for r in runs), "delivered_MB": files_mb,
            "max_abs_err": check["max_abs_err"], "max_rel_err": check["max_rel_err"],
            "delivered": check, "runs": runs, "logs": logs}


# --------------------------------------------------------------------------- main


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def report(data: dict) -> list[list[object]]:
    rows = []
    for name, r in data["models"].items():
        p, n = r.get("peer"), r.get("nnrosetta")
        if p:
            a, b, c = p["tf2onnx"], p["onnx2torch"], p["chain"]
            rows.append([name, f"tf2onnx {T2O_VERSION} (Keras -> ONNX)", a["conversion_s"],
                         a["process_wall_s"], f"{a['peak_MB']:.0f}",
                         f"{a['above_floor_MB']:.0f} (floor {a['floor_MB']:.0f})",
                         f"{a['onnxruntime']['max_rel_err']:.1e} (ORT)"])
            rows.append([name, f"onnx2torch {b['onnx2torch']} (ONNX -> PyTorch)",
                         b["conversion_s"], b["process_wall_s"], f"{b['peak_MB']:.0f}",
                         f"{b['above_floor_MB']:.0f} (floor {b['floor_MB']:.0f})",
                         f"{b['max_rel_err']:.1e}"])
            rows.append([name, "**chain**", c["conversion_s"], c["process_wall_s"],
                         f"{c['peak_MB']:.0f}",
                         f"{c['above_floor_MB']:.0f} (larger step: {c['above_floor_step']})",
                         f"{c['max_rel_err']:.1e}"])
        if n:
            rows.append([name, "**nnrosetta** (warm gateway, verified; frontend-tf + "
                         "backend-pytorch)", n["conversion_s"], "-",
                         f"{n['peak_sum_MB']:.0f} (idle {n['idle_sum_MB']:.0f})",
                         f"{n['above_floor_MB']:.0f} (peak - idle)",
                         f"{n['max_rel_err']:.1e}"])
            rows.append([name, "nnrosetta, verified, model.py + weights.pth only (artifacts="
                         "code: no TorchScript, like the chain's pickled module)",
                         n["code_only_s"], "-", "-", "-", "-"])
            rows.append([name, "nnrosetta, verification skipped", n["noverify_s"], "-", "-",
                         "-", "-"])
        if p and n:
            q = r["ratios"]
            rows.append([name, "ratio nnrosetta / chain", f"x{q['time']:.2f}", "-",
                         f"x{q['peak']:.2f}", f"x{q['peak_above_floor']:.2f}",
                         f"x{q['error']:.2f}"])
            rows.append([name, "ratio, model.py + weights.pth only / chain",
                         f"x{q['time_code_only']:.2f}", "-", "-", "-", "-"])
    return rows


def main(argv: list[str] | None = None) -> dict | None:
    ap = argparse.ArgumentParser(prog="python -m bench.tf", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=["peer", "nnrosetta"])
    ap.add_argument("--step", choices=["prepare", "tf2onnx", "onnx2torch", "torch_run"],
                    help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    ap.add_argument("--arg", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.step:  # a child
        work = Path(args.work)
        fn = {"prepare": lambda: step_prepare(work, args.arg),
              "tf2onnx": lambda: step_tf2onnx(work, args.arg),
              "onnx2torch": lambda: step_onnx2torch(work),
              "torch_run": lambda: step_torch_run(work, args.arg)}[args.step]
        (work / f"{args.step}.json").write_text(json.dumps(fn()))
        return None

    ensure_tf2onnx()
    ensure_onnx2torch()
    data: dict = {"repeat": args.repeat, "tf2onnx": T2O_VERSION, "opset": OPSET, "models": {}}
    for name in args.models:
        work = Path(tempfile.mkdtemp(prefix=f"nnr-bench-tf-{name}-"))
        try:
            prep = child("prepare", work, name)
            log(f"{name}: {prep['params'] / 1e6:.1f}M parameters, .keras "
                f"{prep['keras_MB']:.0f} MB, |logits| max {prep['output_absmax']:.3g}")
            r: dict = {"model": prep}
            if args.only != "nnrosetta":
                r["peer"] = run_peer(name, work, prep["keras"], args.repeat)
            if args.only != "peer":
                r["nnrosetta"] = run_nnrosetta(name, work, prep["keras"], args.repeat)
            if "peer" in r and "nnrosetta" in r:
                c, n = r["peer"]["chain"], r["nnrosetta"]
                q = {"time": _ratio(n["conversion_s"], c["conversion_s"]),
                     "time_code_only": _ratio(n["code_only_s"], c["conversion_s"]),
                     "peak": _ratio(n["peak_sum_MB"], c["peak_MB"]),
                     "peak_above_floor": _ratio(n["above_floor_MB"], c["above_floor_MB"]),
                     "error": _ratio(n["max_rel_err"], c["max_rel_err"])}
                q["meets_target"] = bool(q["time"] <= TARGET_TIME and q["peak"] <= TARGET_MEM
                                         and q["error"] <= 1.0)
                r["ratios"] = q
            data["models"][name] = r
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\n### Keras -> PyTorch, 224x224, random weights (median of {args.repeat}); errors "
          "max|torch - TF| / max|TF|\n")
    print(table(["model", "converter", "conversion s", "cold process s", "peak RSS MiB",
                 "above import floor MiB", "max rel err"], report(data)))
    print(f"\n(target: nnrosetta <= x{TARGET_TIME} of the chain's time and <= x{TARGET_MEM} of "
          "its peak memory, error ratio <= x1; the chain's time excludes its imports: 'cold "
          "process' includes them.)\n"
          f"(memory: the x{TARGET_MEM} target is on 'peak RSS', which counts imports on both "
          "sides: the chain's is the larger step's peak, nnrosetta's the sum of frontend-tf's "
          "and backend-pytorch's; TensorFlow (~500 MiB) + torch (~220 MiB) held by the warm "
          "services are more than a quarter of the chain's MobileNetV2 peak, so 'above import "
          "floor' compares only what a conversion adds: per chain step, its peak less its "
          "VmRSS once its imports are done (the chain's figure is the larger step's), and for "
          "nnrosetta, the summed peak less the summed idle VmRSS, read about 1 s after every "
          "service reported SERVING (framework imported) and before the warm-up conversion.)")
    save("tf", data)
    return data


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        main()
