"""Files a converter keeps between calls, so the gateway does not send the same bytes twice.

A verified conversion runs the source model on the frontend after ToIR has received it, and
the converted model on the backend after FromIR has written it. Without this store every one
of those files crosses the wire again (for VGG-16: 0.5 GB of caffemodel, 1.1 GB of weights and
TorchScript). With it the caller asks ToIR/FromIR to keep their files under a random key
(``ModelHeader.keep_as``), and Run names the key (``RunHeader.use_kept``).

Entries live in a folder of their own, are dropped on ``Release``, after a TTL
(``NNROSETTA_KEEP_TTL_S``, default 600 s), or oldest first when the store holds more than
``NNROSETTA_KEEP_MAX_BYTES`` (default 16 GiB). A key the store does not hold (expired,
evicted, another replica, a restarted service) is not an error of the caller's model: the
caller gets FAILED_PRECONDITION with reason KEPT_MISSING and sends the files instead.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import threading
import time
from dataclasses import dataclass, field

import grpc

from nnrosetta.rpc.errors import ConversionError, Issue

KEY = re.compile(r"^[A-Za-z0-9_.-]{16,128}$")


@dataclass
class Kept:
    key: str
    folder: str
    files: dict[str, str]            # role -> path inside folder
    names: dict[str, str]            # role -> original file name
    format: str = ""
    graph_pb: str = ""               # the IR graph a FromIR wrote these files from
    size: int = 0
    created: float = field(default_factory=time.monotonic)
    used: float = field(default_factory=time.monotonic)
    users: int = 0                   # Runs reading it now; never evicted while > 0


def _size(folder: str) -> int:
    total = 0
    for dirpath, _, names in os.walk(folder):
        for n in names:
            try:
                total += os.path.getsize(os.path.join(dirpath, n))
            except OSError:
                pass
    return total


def check_key(key: str) -> None:
    if not KEY.match(key):
        raise ConversionError(
            grpc.StatusCode.INVALID_ARGUMENT, "bad keep key",
            [Issue("BAD_KEY", "keep_as",
                   "a keep key is 16-128 characters of [A-Za-z0-9_.-]; use a random id")],
            reason="BAD_KEY")


class KeptStore:
    def __init__(self, ttl_s: float | None = None, max_bytes: int | None = None):
        self.ttl_s = float(ttl_s if ttl_s is not None
                           else os.environ.get("NNROSETTA_KEEP_TTL_S", "600"))
        self.max_bytes = int(max_bytes if max_bytes is not None
                             else os.environ.get("NNROSETTA_KEEP_MAX_BYTES", str(16 << 30)))
        self._lock = threading.Lock()
        self._entries: dict[str, Kept] = {}
        atexit.register(self.clear)   # a stopped service leaves nothing in /tmp

    def put(self, key: str, folder: str, files: dict[str, str], names: dict[str, str],
            format: str = "", graph_pb: str = "") -> Kept:
        """Take ownership of folder (the store deletes it)."""
        check_key(key)
        entry = Kept(key, folder, dict(files), dict(names), format, graph_pb, _size(folder))
        with self._lock:
            old = self._entries.pop(key, None)
            self._entries[key] = entry
            drop = self._expire_locked(keep=key)
        if old is not None:
            drop.append(old)
        for e in drop:
            shutil.rmtree(e.folder, ignore_errors=True)
        return entry

    def acquire(self, key: str) -> Kept:
        check_key(key)
        with self._lock:
            drop = self._expire_locked()
            e = self._entries.get(key)
            if e is not None:
                e.users += 1
                e.used = time.monotonic()
        for d in drop:
            shutil.rmtree(d.folder, ignore_errors=True)
        if e is None or not all(os.path.exists(p) for p in e.files.values()):
            raise ConversionError(
                grpc.StatusCode.FAILED_PRECONDITION, f"nothing is kept under {key!r} here",
                [Issue("KEPT_MISSING", "use_kept",
                       "the kept files expired, were evicted or live on another replica: "
                       "send the model's files with the request")],
                reason="KEPT_MISSING")
        return e

    def release_use(self, entry: Kept) -> None:
        with self._lock:
            entry.users = max(0, entry.users - 1)

    def release(self, keys: list[str]) -> int:
        drop = []
        with self._lock:
            for k in keys:
                e = self._entries.get(k)
                if e is None:
                    continue
                if e.users:
                    e.created = -1e18   # expire as soon as the last reader is done
                    continue
                drop.append(self._entries.pop(k))
        for e in drop:
            shutil.rmtree(e.folder, ignore_errors=True)
        return len(drop)

    def _expire_locked(self, keep: str = "") -> list[Kept]:
        now = time.monotonic()
        drop = [k for k, e in self._entries.items()
                if not e.users and k != keep and now - e.created > self.ttl_s]
        out = [self._entries.pop(k) for k in drop]
        total = sum(e.size for e in self._entries.values())
        for k in sorted(self._entries, key=lambda k: self._entries[k].used):
            if total <= self.max_bytes:
                break
            e = self._entries[k]
            if e.users or k == keep:
                continue
            total -= e.size
            out.append(self._entries.pop(k))
        return out

    def clear(self) -> None:
        with self._lock:
            entries = list(self._entries.values())
            self._entries.clear()
        for e in entries:
            shutil.rmtree(e.folder, ignore_errors=True)

    def __len__(self) -> int:
        return len(self._entries)
