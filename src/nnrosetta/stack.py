"""The local stack: every service in its own virtual environment, started on free ports.

* ``ensure_venv(name)`` builds ``.venvs/<name>`` from ``services/<name>/requirements.txt`` (and
  skips the work while a stamp says nothing changed).
* ``LocalStack`` starts the converters, waits until each one's gRPC health says SERVING, then
  starts the gateway with ``NNROSETTA_CONVERTERS`` set to their addresses. What it started is
  recorded in ``<state_dir>/stack.json`` so that ``status()`` and ``down()`` work from another
  process (``nnrosetta up`` / ``nnrosetta status`` / ``nnrosetta down``).

Used as a context manager it runs an ephemeral stack in a temporary state folder; its child
processes die with the process that started them (PR_SET_PDEATHSIG).

``replicas={"frontend-caffe": 2}`` starts several processes of one converter (recorded as
``frontend-caffe.1``, ``frontend-caffe.2``; every address goes into NNROSETTA_CONVERTERS, the
gateway spreads calls over them round robin). ``env`` goes to every service, ``service_env``
to one service (all its replicas): the security settings of docs/security.md work unchanged.
A service that listens with TLS (NNROSETTA_TLS_CERT) gets NNROSETTA_HEALTH_PORT=0, and the
stack checks its health on that plaintext port. Every service gets
NNROSETTA_SHARED_DIR=<state_dir>/shared (same-host transport: files by path, not bytes), unless
env sets it ("" turns it off).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

GATEWAY = "gateway"
STAMP = ".nnrosetta-stamp"
# stdout and stderr share the log file, so the line may be glued to a log record: match the
# address up to the port's last digit (and not before that digit was written).
LISTENING = re.compile(r"NNROSETTA_LISTENING (\S+?:\d+)(?=\D)")
HEALTH_LISTENING = re.compile(r"NNROSETTA_HEALTH_LISTENING (\S+?:\d+)(?=\D)")
# Variables that would make a service's interpreter import from somewhere else than its venv.
_DROP_ENV = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP", "__PYVENV_LAUNCHER__")

Progress = Callable[[str], object]


class StackError(RuntimeError):
    """The stack could not be built, started or reached; the message says what to do."""


def _quiet(_msg: str) -> None:
    pass


# --------------------------------------------------------------------------- repository layout


def repo_root() -> Path:
    """The nnrosetta checkout: $NNROSETTA_HOME, else where this package lives (editable
    install: <root>/src/nnrosetta), else the first folder upward from the working directory
    that holds services/ and pyproject.toml."""
    env = os.environ.get("NNROSETTA_HOME")
    if env:
        p = Path(env).expanduser().resolve()
        if not (p / "services").is_dir():
            raise StackError(f"NNROSETTA_HOME={env} has no services/ folder")
        return p
    here = Path(__file__).resolve().parents[2]
    if (here / "services").is_dir() and (here / "pyproject.toml").is_file():
        return here
    for p in [Path.cwd().resolve(), *Path.cwd().resolve().parents]:
        if (p / "services").is_dir() and (p / "pyproject.toml").is_file():
            return p
    raise StackError("cannot find the nnrosetta checkout: set NNROSETTA_HOME to it "
                     "(the folder with services/ and pyproject.toml)")


def services(root: Path | str | None = None) -> list[str]:
    """Every service folder (services/*/requirements.txt), converters sorted, gateway last."""
    root = Path(root) if root is not None else repo_root()
    names = sorted(p.parent.name for p in (root / "services").glob("*/requirements.txt"))
    if GATEWAY in names:
        names.remove(GATEWAY)
        names.append(GATEWAY)
    return names


list_services = services


def module_name(name: str) -> str:
    return "nnrosetta_" + name.replace("-", "_")


# --------------------------------------------------------------------------- virtual envs


def uses(name: str, root: Path | str | None = None) -> list[str]:
    """Other service folders whose packages service <name> imports (services/<name>/uses.txt,
    one folder name per line): frontend-tf-legacy runs frontend-tf's code under an older
    TensorFlow. They are installed into its venv and copied into its image."""
    root = Path(root) if root is not None else repo_root()
    f = root / "services" / name / "uses.txt"
    if not f.is_file():
        return []
    out = []
    for line in f.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            if not (root / "services" / line / "pyproject.toml").is_file():
                raise StackError(f"{f}: no service folder {line!r}")
            out.append(line)
    return out


def venv_dir(name: str, root: Path | str | None = None) -> Path:
    root = Path(root) if root is not None else repo_root()
    return root / ".venvs" / name


def venv_python(name: str, root: Path | str | None = None) -> Path:
    return venv_dir(name, root) / "bin" / "python"


def venv_stamp(name: str, root: Path | str | None = None) -> str:
    """sha256 of what a venv is built from: the service's requirements.txt and pyproject.toml,
    the root pyproject.toml, the checkout's path (editable installs point there) and the
    interpreter's version."""
    root = Path(root).resolve() if root is not None else repo_root()
    h = hashlib.sha256()
    for p in (root / "services" / name / "requirements.txt", root / "pyproject.toml",
              root / "services" / name / "pyproject.toml",
              root / "services" / name / "uses.txt",
              *(root / "services" / u / "pyproject.toml" for u in uses(name, root))):
        h.update(str(p.relative_to(root)).encode() + b"\0")
        h.update(p.read_bytes() if p.is_file() else b"<missing>")
        h.update(b"\0")
    h.update(str(root).encode() + b"\0" + _base_python_version().encode())
    return h.hexdigest()


def _base_python() -> str:
    return os.environ.get("NNROSETTA_PYTHON") or sys.executable


def _base_python_version() -> str:
    if not os.environ.get("NNROSETTA_PYTHON"):
        return sys.version.split()[0]
    return os.environ["NNROSETTA_PYTHON"]


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
    env.update(extra or {})
    return env


def ensure_venv(name: str, progress: Progress | None = print, *,
                root: Path | str | None = None, force: bool = False) -> Path:
    """Build .venvs/<name> for service <name> unless its stamp is current; returns the
    interpreter. Safe when several processes call it at once (a file lock per venv)."""
    progress = progress or _quiet
    root = Path(root).resolve() if root is not None else repo_root()
    svc = root / "services" / name
    if not (svc / "requirements.txt").is_file():
        raise StackError(f"no service {name!r}: {svc / 'requirements.txt'} does not exist "
                         f"(services: {', '.join(services(root)) or 'none'})")
    vdir = venv_dir(name, root)
    stamp_file = vdir / STAMP
    py = vdir / "bin" / "python"
    log_path = vdir.parent / f"{name}.log"
    with _file_lock(vdir.parent / f"{name}.lock"):
        want = venv_stamp(name, root)
        if (not force and py.exists() and stamp_file.is_file()
                and stamp_file.read_text().strip() == want):
            progress(f"venv {name}: up to date")
            return py
        t0 = time.monotonic()
        rel = os.path.relpath
        steps: list[tuple[str, list[str], Path | None]] = [
            (f"python -m venv {rel(vdir, root)}", [_base_python(), "-m", "venv", str(vdir)], None),
            (f"pip install -r {rel(svc / 'requirements.txt', root)}",
             [str(py), "-m", "pip", "install", "-r", str(svc / "requirements.txt")], None),
            ("pip install --no-deps -e .",
             [str(py), "-m", "pip", "install", "--no-deps", "-e", str(root)],
             root / ".venvs" / ".root-install.lock"),
            (f"pip install --no-deps -e {rel(svc, root)}",
             [str(py), "-m", "pip", "install", "--no-deps", "-e", str(svc)], None),
        ]
        for u in uses(name, root):
            d = root / "services" / u
            steps.append((f"pip install --no-deps -e {rel(d, root)} (uses.txt)",
                          [str(py), "-m", "pip", "install", "--no-deps", "-e", str(d)], None))
        if vdir.exists():
            progress(f"venv {name}: requirements changed, rebuilding {rel(vdir, root)}")
            shutil.rmtree(vdir)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "w") as log:
            for i, (label, cmd, lock) in enumerate(steps, 1):
                progress(f"venv {name}: [{i}/{len(steps)}] {label}  "
                         f"({time.monotonic() - t0:.1f}s)")
                log.write(f"\n$ {' '.join(cmd)}\n")
                log.flush()
                with _file_lock(lock) if lock else contextlib.nullcontext():
                    rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=str(root),
                                         env=_clean_env())
                if rc != 0:
                    log.flush()
                    raise StackError(
                        f"building venv {name} failed at step {i}/{len(steps)}: "
                        f"`{' '.join(cmd)}` exited with {rc}; the full output is in {log_path}"
                        f"\n--- last lines of {log_path} ---\n{_tail(log_path)}")
        stamp_file.write_text(want + "\n")
        progress(f"venv {name}: ready in {time.monotonic() - t0:.1f}s (log: {log_path})")
        return py


# --------------------------------------------------------------------------- processes


def _tail(path: Path | str, lines: int = 30) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


# Runs in the child, in a bare interpreter (-I -S: no site-packages, nothing of gRPC's): asks
# the kernel for SIGTERM when the parent dies, leaves if the parent is already gone, then
# becomes the real command (the pid, the signal setting and the redirections are kept).
_LAUNCH = ("import ctypes, os, sys\n"
           "try:\n"
           "    ctypes.CDLL(None, use_errno=True).prctl(1, int(sys.argv[2]), 0, 0, 0)\n"
           "except Exception:\n"
           "    pass\n"
           "if os.getppid() != int(sys.argv[1]):\n"
           "    os._exit(1)\n"
           "os.execv(sys.argv[3], sys.argv[3:])\n")


def dying_with_parent(cmd: list[str], parent_pid: int | None = None,
                      sig: int = signal.SIGTERM) -> list[str]:
    """``cmd`` wrapped so that the process gets ``sig`` when the thread that started it dies
    (Linux PR_SET_PDEATHSIG; elsewhere the process group still helps).

    Not a ``preexec_fn``: that makes Python fork instead of vfork, and in a forked child
    gRPC's fork handlers restart its poller thread, which then aborts on the epoll fd that
    ``close_fds`` closes (``epoll_wait error: Bad file descriptor``, the child dies with
    SIGABRT before it runs anything; grpc/grpc#43055). The parent here is any process that
    uses gRPC (tests, the CLI), so the setting is made after exec, by a bare interpreter."""
    if parent_pid is None:
        parent_pid = os.getpid()
    prog = cmd[0] if os.path.isabs(cmd[0]) else (shutil.which(cmd[0]) or cmd[0])
    return [sys.executable, "-I", "-S", "-c", _LAUNCH, str(parent_pid), str(int(sig)),
            prog, *cmd[1:]]


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks (to tell it from a reused pid); None if gone
    or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        if sys.platform.startswith("linux"):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "?"
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):
        return None
    return fields[19]


def pid_alive(pid: int, start_time: str | None = None) -> bool:
    st = _start_time(pid)
    if st is None:
        return False
    return start_time in (None, "?") or st in ("?", start_time)


def health(address: str, timeout: float = 2.0, service: str = "") -> str:
    """The gRPC health status of `address`: SERVING, NOT_SERVING, ..., or UNREACHABLE."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(address) as ch:
        try:
            r = health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as e:
            code = e.code() if hasattr(e, "code") else None
            return "UNREACHABLE" if code in (grpc.StatusCode.UNAVAILABLE,
                                             grpc.StatusCode.DEADLINE_EXCEEDED) else \
                f"ERROR {code.name if code else e}"
        return health_pb2.HealthCheckResponse.ServingStatus.Name(r.status)


def _health_address(entry: Mapping) -> str:
    """Where to ask an entry of stack.json for its health: its plaintext health port when it
    has one (a TLS service), else its address."""
    return entry.get("health_address") or entry["address"]


class LocalStack:
    """Start, inspect and stop the local services.

    ``LocalStack()`` works on ``<root>/.nnrosetta/stack`` (what ``nnrosetta up`` uses);
    ``with LocalStack() as st:`` starts an ephemeral stack in a temporary folder instead (unless
    state_dir is given) and stops it on exit.

    python: run every service with this interpreter (services/<name> put on PYTHONPATH) instead
    of its own venv; for development and tests.
    """

    def __init__(self, state_dir: Path | str | None = None, *, root: Path | str | None = None,
                 services: Sequence[str] | None = None, env: Mapping[str, str] | None = None,
                 progress: Progress | None = None, python: str | None = None,
                 start_timeout: float | None = None, keep_logs: bool = False,
                 replicas: Mapping[str, int] | None = None,
                 service_env: Mapping[str, Mapping[str, str]] | None = None):
        self.root = Path(root).resolve() if root is not None else None
        self._explicit_state_dir = state_dir is not None
        if state_dir is None and os.environ.get("NNROSETTA_STATE_DIR"):
            state_dir = os.environ["NNROSETTA_STATE_DIR"]
        self._explicit_state_dir = state_dir is not None
        self.state_dir = Path(state_dir) if state_dir is not None else \
            self._root() / ".nnrosetta" / "stack"
        self._services = list(services) if services is not None else None
        self._env = dict(env or {})
        self.replicas = {k: int(v) for k, v in (replicas or {}).items()}
        bad = {k: v for k, v in self.replicas.items() if v < 1 or k == GATEWAY}
        if bad:
            raise StackError(f"replicas: {bad} (one or more of a converter; the gateway runs once)")
        self._service_env = {k: dict(v) for k, v in (service_env or {}).items()}
        self._progress = progress
        self.python = python
        self.start_timeout = start_timeout if start_timeout is not None else \
            float(os.environ.get("NNROSETTA_START_TIMEOUT", "300"))
        self.keep_logs = keep_logs
        self.ephemeral = False
        self._tmp: str | None = None
        self._procs: dict[int, subprocess.Popen] = {}

    # -- state ------------------------------------------------------------------------------

    def _root(self) -> Path:
        if self.root is None:
            self.root = repo_root()
        return self.root

    @property
    def state_file(self) -> Path:
        return self.state_dir / "stack.json"

    def _read_state(self) -> dict | None:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None

    def _write_state(self, state: dict) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        os.replace(tmp, self.state_file)

    @property
    def gateway_address(self) -> str | None:
        state = self._read_state()
        return state.get("gateway") if state else None

    @property
    def addresses(self) -> dict[str, str]:
        state = self._read_state() or {}
        return {s["name"]: s["address"] for s in state.get("services", [])}

    def status(self) -> dict[str, dict]:
        """name -> {pid, address, log, alive, health} for what stack.json records; {} when
        nothing was started."""
        state = self._read_state()
        out: dict[str, dict] = {}
        for s in (state or {}).get("services", []):
            alive = pid_alive(s["pid"], s.get("start_time"))
            out[s["name"]] = {
                "pid": s["pid"], "address": s["address"], "log": s.get("log"),
                "alive": alive,
                "health": health(_health_address(s), timeout=2.0) if alive else "DEAD",
            }
        return out

    def running(self) -> bool:
        """Whether a stack recorded here is up: its gateway's health is SERVING."""
        state = self._read_state()
        if not state or not state.get("gateway"):
            return False
        gw = next((s for s in state["services"] if s["name"] == GATEWAY), None)
        if gw is None or not pid_alive(gw["pid"], gw.get("start_time")):
            return False
        return health(_health_address(gw)) == "SERVING"

    # -- start --------------------------------------------------------------------------------

    def _say(self, progress: Progress | None, msg: str) -> None:
        (progress or self._progress or _quiet)(msg)

    def _command(self, name: str, progress: Progress | None) -> tuple[list[str], dict[str, str]]:
        root = self._root()
        extra: dict[str, str] = {}
        if self.python:
            py = self.python
            svc = str(root / "services" / name)
            extra["PYTHONPATH"] = os.pathsep.join(
                [svc, *(str(root / "services" / u) for u in uses(name, root)),
                 str(root / "src")])
        else:
            py = str(ensure_venv(name, progress or self._progress or _quiet, root=root))
        return [py, "-m", module_name(name)], extra

    def _service_environ(self, name: str, base: Mapping[str, str],
                         extra: Mapping[str, str]) -> dict[str, str]:
        env = {**base, **extra, **self._service_env.get(name, {}),
               "HOST": "127.0.0.1", "PORT": "0"}
        if env.get("NNROSETTA_TLS_CERT"):   # the stack's own health checks are plaintext
            env["NNROSETTA_HEALTH_PORT"] = "0"
        return env

    def _spawn(self, name: str, cmd: list[str], env: dict[str, str],
               service: str | None = None) -> dict:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.state_dir / f"{name}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                dying_with_parent(cmd) if self.ephemeral else cmd, stdout=log,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                cwd=str(self.state_dir), start_new_session=True)
        self._procs[proc.pid] = proc
        return {"name": name, "service": service or name, "pid": proc.pid,
                "start_time": _start_time(proc.pid), "address": "", "log": str(log_path),
                "started": time.time()}

    def _wait_ready(self, entries: list[dict], progress: Progress | None, t0: float) -> None:
        """Wait until every entry printed its address and reports SERVING."""
        pending = {e["name"]: e for e in entries}
        deadline = time.monotonic() + self.start_timeout
        while pending:
            for name, e in list(pending.items()):
                proc = self._procs.get(e["pid"])
                rc = proc.poll() if proc is not None else None
                if rc is not None:
                    raise StackError(
                        f"{name} exited with code {rc} while starting; last lines of "
                        f"{e['log']}:\n{_tail(e['log'])}")
                if not e["address"]:
                    text = Path(e["log"]).read_text("utf-8", "replace")
                    m = LISTENING.search(text)
                    if m:
                        e["address"] = m.group(1)
                        hm = HEALTH_LISTENING.search(text)
                        if hm:
                            e["health_address"] = hm.group(1)
                        self._say(progress, f"{name}: listening on {e['address']} "
                                            f"({time.monotonic() - t0:.1f}s)")
                if e["address"] and health(_health_address(e), timeout=1.0) == "SERVING":
                    self._say(progress, f"{name}: serving ({time.monotonic() - t0:.1f}s)")
                    del pending[name]
            if not pending:
                break
            if time.monotonic() > deadline:
                lines = []
                for name, e in pending.items():
                    state = health(_health_address(e), timeout=1.0) if e["address"] else \
                        "no NNROSETTA_LISTENING line yet"
                    lines.append(f"{name} did not become SERVING within "
                                 f"{self.start_timeout:.0f}s ({state}); last lines of "
                                 f"{e['log']}:\n{_tail(e['log'])}")
                raise StackError("\n".join(lines) + "\n(raise NNROSETTA_START_TIMEOUT if the "
                                 "framework is just slow to load)")
            time.sleep(0.1)

    def up(self, services: Sequence[str] | None = None, progress: Progress | None = print,
           env: Mapping[str, str] | None = None) -> dict[str, str]:
        """Start the converters (all, or `services`) and then the gateway; returns name ->
        address. Builds missing venvs first."""
        root = self._root()
        if self.running():
            raise StackError(f"a stack is already running (state in {self.state_dir}); "
                             "stop it with `nnrosetta down` first")
        self._cleanup_stale()
        all_names = list_services(root)
        wanted = services if services is not None else self._services
        known = list(wanted) if wanted is not None else all_names
        unknown = [n for n in known if n not in all_names]
        if unknown:
            raise StackError(f"unknown service(s): {', '.join(unknown)} (services/ has: "
                             f"{', '.join(all_names) or 'none'})")
        converters = [n for n in known if n != GATEWAY]
        with_gateway = GATEWAY in all_names
        t0 = time.monotonic()
        base = _clean_env({**self._env, **(env or {}), "HOST": "127.0.0.1", "PORT": "0"})
        # One machine: the services hand files over by path in a folder they all see
        # (same-host transport, nnrosetta.shared); "" in env turns it off.
        base.setdefault("NNROSETTA_SHARED_DIR", str(self.state_dir / "shared"))
        if not base["NNROSETTA_SHARED_DIR"]:
            del base["NNROSETTA_SHARED_DIR"]
        # Build every venv first (one pip at a time), then start.
        cmds = {n: self._command(n, progress) for n in
                [*converters, *([GATEWAY] if with_gateway else [])]}
        state = {"version": 1, "root": str(root), "ephemeral": self.ephemeral,
                 "owner_pid": os.getpid(), "services": [], "gateway": None}
        try:
            entries = []
            for n in converters:
                cmd, extra = cmds[n]
                count = self.replicas.get(n, 1)
                for i in range(count):
                    label = n if count == 1 else f"{n}.{i + 1}"
                    self._say(progress, f"{label}: starting ({time.monotonic() - t0:.1f}s)")
                    entries.append(self._spawn(label, cmd, self._service_environ(n, base, extra),
                                               service=n))
                    state["services"] = entries
                    self._write_state(state)
            self._wait_ready(entries, progress, t0)
            self._write_state(state)
            if with_gateway:
                cmd, extra = cmds[GATEWAY]
                gw_env = {**self._service_environ(GATEWAY, base, extra),
                          "NNROSETTA_CONVERTERS": ",".join(e["address"] for e in entries)}
                self._say(progress, f"{GATEWAY}: starting with {len(entries)} converter(s) "
                                    f"({time.monotonic() - t0:.1f}s)")
                gw = self._spawn(GATEWAY, cmd, gw_env)
                entries.append(gw)
                state["services"] = entries
                self._write_state(state)
                self._wait_ready([gw], progress, t0)
                state["gateway"] = gw["address"]
                self._write_state(state)
        except BaseException:
            self.down(progress=None)
            raise
        self._say(progress, f"stack up in {time.monotonic() - t0:.1f}s"
                            + (f"; gateway {state['gateway']}" if state["gateway"] else ""))
        return {e["name"]: e["address"] for e in state["services"]}

    def _cleanup_stale(self) -> None:
        """Stop what a previous, half-dead stack left behind here."""
        state = self._read_state()
        if state and any(pid_alive(s["pid"], s.get("start_time"))
                         for s in state.get("services", [])):
            self.down(progress=None)
        with contextlib.suppress(FileNotFoundError):
            self.state_file.unlink()

    # -- stop ---------------------------------------------------------------------------------

    def down(self, progress: Progress | None = print, timeout: float | None = None) -> list[str]:
        """SIGTERM every recorded service (gateway first), wait, SIGKILL what is left; returns
        the names that were running."""
        state = self._read_state() or {"services": []}
        timeout = timeout if timeout is not None else \
            float(os.environ.get("GRACE_S", "5")) + 5.0
        entries = sorted(state.get("services", []), key=lambda s: s["name"] != GATEWAY)
        live = [s for s in entries if pid_alive(s["pid"], s.get("start_time"))]
        for s in live:
            self._say(progress, f"{s['name']}: stopping (pid {s['pid']})")
            with contextlib.suppress(ProcessLookupError):
                os.kill(s["pid"], signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for s in live:
            while time.monotonic() < deadline and self._alive(s):
                time.sleep(0.05)
            if self._alive(s):
                self._say(progress, f"{s['name']}: did not stop in {timeout:.0f}s, killing")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(s["pid"], signal.SIGKILL)
                end = time.monotonic() + 5
                while time.monotonic() < end and self._alive(s):
                    time.sleep(0.05)
        for proc in self._procs.values():  # reap our own children
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=1)
        self._procs.clear()
        with contextlib.suppress(FileNotFoundError):
            self.state_file.unlink()
        if live:
            self._say(progress, f"stopped {len(live)} service(s)")
        return [s["name"] for s in live]

    def _alive(self, s: dict) -> bool:
        proc = self._procs.get(s["pid"])
        if proc is not None:
            return proc.poll() is None
        return pid_alive(s["pid"], s.get("start_time"))

    # -- ephemeral ------------------------------------------------------------------------------

    def __enter__(self) -> LocalStack:
        self.ephemeral = True
        if not self._explicit_state_dir:
            self._tmp = tempfile.mkdtemp(prefix="nnrosetta-stack-")
            self.state_dir = Path(self._tmp)
        self.up(progress=self._progress or _quiet)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.down(progress=None)
        finally:
            if self._tmp and not self.keep_logs:
                shutil.rmtree(self._tmp, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m nnrosetta.stack build [NAME ...]`: build (or check) the service venvs; other
    commands (up, down, status) are the CLI's."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "build":
        from nnrosetta.cli import main as cli_main

        return cli_main(args)
    names = args[1:] or services()
    t0 = time.monotonic()
    try:
        for name in names:
            ensure_venv(name, lambda m: print(m, flush=True))
    except StackError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{len(names)} service venv(s) ready in {time.monotonic() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
