"""The local stack (venvs, starting/stopping services) and the SeaweedFS test server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from nnrosetta import stack
from nnrosetta.stack import LocalStack, StackError, ensure_venv, health, pid_alive, services

FAKE_MAIN = (Path(__file__).parent / "support" / "fake_services" / "fake_main.py").read_text()
SRC = str(Path(stack.__file__).resolve().parents[1])

MINI_PYPROJECT = """\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{name}"
version = "0.1.0"
dependencies = []

[tool.setuptools]
packages = {packages}
"""


def make_root(tmp: Path, names=("fake-a", "gateway")) -> Path:
    """A checkout-shaped folder: pyproject.toml and services/<name>/ running FAKE_MAIN."""
    root = tmp / "root"
    root.mkdir(exist_ok=True)
    (root / "pyproject.toml").write_text(MINI_PYPROJECT.format(name="fakeroot", packages="[]"))
    for name in names:
        mod = stack.module_name(name)
        pkg = root / "services" / name / mod
        pkg.mkdir(parents=True, exist_ok=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "__main__.py").write_text(FAKE_MAIN + f"\n\nmain({name!r})\n")
        (root / "services" / name / "requirements.txt").write_text("")
        (root / "services" / name / "pyproject.toml").write_text(
            MINI_PYPROJECT.format(name=f"fake-{mod}", packages=json.dumps([mod])))
    return root


# --------------------------------------------------------------------------- layout


def test_services_lists_converters_then_gateway(tmp_path):
    root = make_root(tmp_path, ("gateway", "zeta", "alpha-x"))
    (root / "services" / "not-a-service").mkdir()
    assert services(root) == ["alpha-x", "zeta", "gateway"]
    assert stack.module_name("frontend-caffe") == "nnrosetta_frontend_caffe"


def test_repo_root_from_env(tmp_path, monkeypatch):
    root = make_root(tmp_path)
    monkeypatch.setenv("NNROSETTA_HOME", str(root))
    assert stack.repo_root() == root.resolve()
    monkeypatch.setenv("NNROSETTA_HOME", str(tmp_path / "nope"))
    with pytest.raises(StackError, match="services/"):
        stack.repo_root()
    monkeypatch.delenv("NNROSETTA_HOME")
    assert (stack.repo_root() / "src" / "nnrosetta" / "stack.py").is_file()


# --------------------------------------------------------------------------- venvs


def test_ensure_venv_builds_once_and_stamps(tmp_path):
    root = make_root(tmp_path, ("fake-a",))
    lines: list[str] = []
    py = ensure_venv("fake-a", lines.append, root=root)
    assert py == root / ".venvs" / "fake-a" / "bin" / "python"
    assert [ln for ln in lines if "[" in ln][0].startswith("venv fake-a: [1/4] python -m venv")
    assert any("[4/4] pip install --no-deps -e services/fake-a" in ln for ln in lines)
    assert "ready in" in lines[-1]
    stamp = (root / ".venvs" / "fake-a" / stack.STAMP).read_text().strip()
    assert stamp == stack.venv_stamp("fake-a", root)
    assert (root / ".venvs" / "fake-a.log").read_text().count("$ ") == 4
    # the service's package is importable in its venv
    out = subprocess.run([str(py), "-c", "import nnrosetta_fake_a, sys; print(sys.prefix)"],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(root / ".venvs" / "fake-a")
    lines.clear()
    t0 = time.monotonic()
    assert ensure_venv("fake-a", lines.append, root=root) == py
    assert lines == ["venv fake-a: up to date"] and time.monotonic() - t0 < 1


def _fake_pip(calls: list, fail_at: int | None = None, delay: float = 0.0):
    def call(cmd, stdout=None, **kw):
        calls.append(cmd)
        time.sleep(delay)
        if cmd[1:3] == ["-m", "venv"]:  # make the interpreter path exist
            (Path(cmd[-1]) / "bin").mkdir(parents=True)
            (Path(cmd[-1]) / "bin" / "python").write_text("")
        if fail_at is not None and len(calls) == fail_at:
            stdout.write("ERROR: No matching distribution found for nothing==1\n")
            return 1
        return 0
    return call


def test_ensure_venv_rebuilds_when_inputs_change(tmp_path, monkeypatch):
    root = make_root(tmp_path, ("fake-a",))
    calls: list = []
    monkeypatch.setattr(stack.subprocess, "call", _fake_pip(calls))
    ensure_venv("fake-a", None, root=root)
    assert len(calls) == 4
    ensure_venv("fake-a", None, root=root)
    assert len(calls) == 4
    for f in ("services/fake-a/requirements.txt", "pyproject.toml",
              "services/fake-a/pyproject.toml"):
        (root / f).write_text((root / f).read_text() + "\n# changed\n")
        lines: list[str] = []
        ensure_venv("fake-a", lines.append, root=root)
        assert any("requirements changed, rebuilding" in ln for ln in lines), f
    assert len(calls) == 16
    assert calls[-4][1:3] == ["-m", "venv"]
    assert calls[-3][-2:] == ["-r", str(root / "services/fake-a/requirements.txt")]
    assert calls[-2][-3:] == ["--no-deps", "-e", str(root)]


def test_ensure_venv_failure_names_log_and_command(tmp_path, monkeypatch):
    root = make_root(tmp_path, ("fake-a",))
    monkeypatch.setattr(stack.subprocess, "call", _fake_pip([], fail_at=2))
    with pytest.raises(StackError) as ei:
        ensure_venv("fake-a", None, root=root)
    msg = str(ei.value)
    assert "step 2/4" in msg and "pip install -r" in msg and "exited with 1" in msg
    assert str(root / ".venvs" / "fake-a.log") in msg
    assert "No matching distribution" in msg
    assert not (root / ".venvs" / "fake-a" / stack.STAMP).exists()
    with pytest.raises(StackError, match="no service 'nope'"):
        ensure_venv("nope", None, root=root)


def test_ensure_venv_is_locked_between_callers(tmp_path, monkeypatch):
    root = make_root(tmp_path, ("fake-a",))
    calls: list = []
    monkeypatch.setattr(stack.subprocess, "call", _fake_pip(calls, delay=0.1))
    lines: list[str] = []
    ts = [threading.Thread(target=ensure_venv, args=("fake-a", lines.append),
                           kwargs={"root": root}) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert len(calls) == 4  # built once
    assert lines.count("venv fake-a: up to date") == 2


# --------------------------------------------------------------------------- LocalStack


def _stack(root: Path, state: Path, **kw) -> LocalStack:
    return LocalStack(state, root=root, python=sys.executable, start_timeout=30, **kw)


def test_up_status_down_across_instances(tmp_path):
    root = make_root(tmp_path, ("fake-a", "fake-b", "gateway"))
    state = tmp_path / "state"
    lines: list[str] = []
    st = _stack(root, state)
    addrs = st.up(progress=lines.append, env={"FAKE_MARK": "hello"})
    try:
        assert list(addrs) == ["fake-a", "fake-b", "gateway"]
        assert all(a.startswith("127.0.0.1:") for a in addrs.values())
        assert any(ln.startswith("fake-a: serving") for ln in lines)
        assert st.gateway_address == addrs["gateway"]
        gw_log = (state / "gateway.log").read_text()
        assert f"NNROSETTA_CONVERTERS={addrs['fake-a']},{addrs['fake-b']}" in gw_log
        assert "FAKE_MARK=hello" in gw_log

        other = _stack(root, state)  # e.g. `nnrosetta status` in another process
        assert other.running()
        status = other.status()
        assert {n: s["health"] for n, s in status.items()} == dict.fromkeys(addrs, "SERVING")
        assert json.loads((state / "stack.json").read_text())["gateway"] == addrs["gateway"]
        with pytest.raises(StackError, match="already running"):
            other.up(progress=None)
        pids = [s["pid"] for s in status.values()]
        assert sorted(other.down(progress=None)) == sorted(addrs)
    finally:
        st.down(progress=None)
    time.sleep(0.2)
    assert not any(pid_alive(p) for p in pids)
    assert not (state / "stack.json").exists()
    assert other.status() == {} and not other.running()
    assert health(addrs["gateway"], timeout=0.5) == "UNREACHABLE"


def test_up_subset_of_services(tmp_path):
    root = make_root(tmp_path, ("fake-a", "fake-b", "gateway"))
    st = _stack(root, tmp_path / "state")
    try:
        assert list(st.up(["fake-b"], progress=None)) == ["fake-b", "gateway"]
    finally:
        st.down(progress=None)
    with pytest.raises(StackError, match="unknown service"):
        st.up(["nope"], progress=None)


def test_start_timeout_shows_log_tail(tmp_path):
    root = make_root(tmp_path, ("fake-a", "gateway"))
    st = LocalStack(tmp_path / "state", root=root, python=sys.executable, start_timeout=2)
    with pytest.raises(StackError) as ei:
        st.up(progress=None, env={"FAKE_LOAD_S": "60"})
    msg = str(ei.value)
    assert "fake-a did not become SERVING within 2s (NOT_SERVING)" in msg
    assert "fake fake-a starting" in msg and "fake-a.log" in msg
    assert st.status() == {}  # what had started was stopped


def test_crash_at_start_is_reported(tmp_path):
    root = make_root(tmp_path, ("fake-a", "gateway"))
    st = _stack(root, tmp_path / "state")
    with pytest.raises(StackError, match=r"(?s)fake-a exited with code 3.*import failed"):
        st.up(progress=None, env={"FAKE_CRASH": "3"})


def test_ephemeral_context_manager(tmp_path):
    root = make_root(tmp_path, ("fake-a", "gateway"))
    with LocalStack(root=root, python=sys.executable) as st:
        state_dir = st.state_dir
        assert state_dir != root / ".nnrosetta" / "stack"
        assert health(st.gateway_address) == "SERVING"
        pids = [s["pid"] for s in st.status().values()]
    assert not state_dir.exists()
    assert not any(pid_alive(p) for p in pids)


def test_ephemeral_children_die_with_parent(tmp_path):
    root = make_root(tmp_path, ("fake-a", "gateway"))
    script = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {SRC!r})
        from nnrosetta.stack import LocalStack
        st = LocalStack(root={str(root)!r}, python=sys.executable)
        st.__enter__()
        print(" ".join(str(s["pid"]) for s in st.status().values()), flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    pids = [int(p) for p in parent.stdout.readline().split()]
    assert len(pids) == 2 and all(pid_alive(p) for p in pids)
    parent.send_signal(signal.SIGKILL)  # no cleanup code runs
    parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(pid_alive(p) for p in pids):
        time.sleep(0.1)
    assert not any(pid_alive(p) for p in pids)


def test_dying_with_parent_execs_the_command_or_leaves():
    """The wrapper becomes the command (its exit code, a name found on PATH), or exits 1
    when the parent it was told about is not its parent; it is never a preexec_fn (which
    would make Python fork, where gRPC's fork handlers crash the child)."""
    from nnrosetta.stack import dying_with_parent

    assert subprocess.run(dying_with_parent(["sh", "-c", "exit 7"])).returncode == 7
    assert subprocess.run(dying_with_parent(["sh", "-c", "exit 7"], parent_pid=1)
                          ).returncode == 1
    out = subprocess.run(dying_with_parent(["sh", "-c", "echo $$ $PPID"]), capture_output=True,
                         text=True).stdout.split()
    assert int(out[1]) == os.getpid()              # exec'd in place: no extra process between


def test_stale_state_is_cleaned(tmp_path):
    root = make_root(tmp_path, ("fake-a", "gateway"))
    state = tmp_path / "state"
    state.mkdir()
    (state / "stack.json").write_text(json.dumps({
        "services": [{"name": "gateway", "pid": 2 ** 22 + 1, "address": "127.0.0.1:1",
                      "log": "x"}], "gateway": "127.0.0.1:1"}))
    st = _stack(root, state)
    assert not st.running()
    assert st.status()["gateway"]["alive"] is False
    try:
        st.up(progress=None)
        assert st.running()
    finally:
        st.down(progress=None)


# --------------------------------------------------------------------------- SeaweedFS


def test_seaweedfs_put_get(s3):  # the fixture comes from tests/conftest.py
    c = s3.client()
    c.create_bucket(Bucket="nnr-stack-test")
    body = os.urandom(300_000)
    c.put_object(Bucket="nnr-stack-test", Key="a/b/model.bin", Body=body)
    assert c.get_object(Bucket="nnr-stack-test", Key="a/b/model.bin")["Body"].read() == body
    keys = [o["Key"] for o in c.list_objects_v2(Bucket="nnr-stack-test")["Contents"]]
    assert keys == ["a/b/model.bin"]
    assert s3.env()["AWS_ENDPOINT_URL"] == s3.endpoint_url.rstrip("/")
    assert s3.endpoint_url.startswith("http://127.0.0.1:")


def test_seaweedfs_refuses_wrong_secret(s3):
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as ei:
        s3.client(secret_key="wrong" + s3.secret_key).list_buckets()
    assert ei.value.response["Error"]["Code"] in ("SignatureDoesNotMatch", "AccessDenied",
                                                  "InvalidAccessKeyId")
