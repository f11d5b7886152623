"""Shared helpers: zoo models, a warm local stack, /proc memory readings, tables, results."""

from __future__ import annotations

import contextlib
import json
import os
import statistics
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
MODELS = ("resnet50", "vgg16")

if str(ROOT) not in sys.path:  # `tests.zoo` and the in-repo packages
    sys.path.insert(0, str(ROOT))


def zoo(name: str) -> tuple[Path, Path]:
    """(prototxt, caffemodel) of a random-weight zoo model (built once, cached)."""
    from tests.zoo.build import build

    return build(name)


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def stack(log_level: str = "INFO", keep_logs: bool = False,
          shared: bool = True) -> Iterator[object]:
    """A fresh local stack (every service a real process from its own venv). shared=False:
    no shared folder, so every file and tensor crosses gRPC as bytes (as between hosts)."""
    from nnrosetta.stack import LocalStack

    t0 = time.perf_counter()
    env = {"LOG_LEVEL": log_level}
    if not shared:
        env["NNROSETTA_SHARED_DIR"] = ""
    with LocalStack(env=env, progress=None, keep_logs=keep_logs) as st:
        log(f"stack up in {time.perf_counter() - t0:.1f}s: gateway {st.gateway_address}")
        yield st


def service_pids(st) -> dict[str, int]:
    state = st._read_state() or {}
    return {s["name"]: s["pid"] for s in state.get("services", [])}


def service_logs(st) -> dict[str, str]:
    state = st._read_state() or {}
    return {s["name"]: s["log"] for s in state.get("services", [])}


def rpc_events(path: str, since: float = 0.0) -> list[dict]:
    """The services' structured "rpc" log events (method, ok, s) logged after `since`."""
    out = []
    with contextlib.suppress(OSError):
        for line in Path(path).read_text("utf-8", "replace").splitlines():
            if '"msg": "rpc"' not in line:
                continue
            with contextlib.suppress(ValueError):
                ev = json.loads(line[line.index("{"):])
                if ev.get("ts", 0) >= since:
                    out.append(ev)
    return out


def proc_status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def caffe_source(name: str) -> dict[str, str]:
    proto, model = zoo(name)
    return {"network": f"file://{proto}", "weights": f"file://{model}"}


def median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    def cell(v: object) -> str:
        if isinstance(v, float):
            return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
        return str(v)

    cells = [[cell(v) for v in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(headers)]

    def line(vals: Sequence[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(vals, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in cells)])


def machine() -> dict[str, object]:
    import platform

    mem = 0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) // 1024
    return {"cpus": os.cpu_count(), "mem_MB": mem, "python": platform.python_version(),
            "platform": platform.platform()}


def save(name: str, data: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    data = {"bench": name, "when": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": machine(),
            **data}
    path.write_text(json.dumps(data, indent=1) + "\n")
    log(f"wrote {path.relative_to(ROOT)}")
    return path
