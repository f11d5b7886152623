"""Same-host transport: services that share a folder hand files over by path, not as bytes.

gRPC moves bytes at about 1-2 GB/s in Python; a verified VGG-16 conversion moves 2 GB
(source, IR, written model). When the gateway and a converter run on one machine (the local
stack, one compose host, or pods sharing a volume), that copying is pure overhead, so, like
Triton's system shared memory, they may pass paths inside a folder both can see:

* every service with ``NNROSETTA_SHARED_DIR`` set writes a token file there at start and names
  it in ``Describe`` (``shared_token``); a caller that finds the same file in its own shared
  folder knows they share it — a folder with the same name on another machine does not count;
* the caller owns the folders it names in ``ModelHeader.shared_dir`` and deletes them;
* a receiver accepts a path only if it resolves inside its own shared folder (symlinks
  resolved), so a peer cannot make a service read anything else.

Without the variable everything travels as bytes, as before.
"""

from __future__ import annotations

import atexit
import os
import shutil
import threading
import uuid

ENV = "NNROSETTA_SHARED_DIR"

_lock = threading.Lock()
_token: str | None = None


class OutsideShared(ValueError):
    """A path that is not inside this process's shared folder."""


def root() -> str | None:
    """This process's shared folder (created if needed), or None when not configured."""
    d = os.environ.get(ENV, "").strip()
    if not d:
        return None
    os.makedirs(d, exist_ok=True)
    return os.path.realpath(d)


def token() -> str:
    """The name of this process's token file in the shared folder ("" without one)."""
    global _token
    r = root()
    if r is None:
        return ""
    with _lock:
        if _token is None or not os.path.isfile(os.path.join(r, _token)):
            name = f".nnr-share-{uuid.uuid4().hex}"
            with open(os.path.join(r, name), "w") as f:
                f.write(name)
            _token = name
            atexit.register(_remove, os.path.join(r, name))
        return _token


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def sees(peer_token: str) -> bool:
    """Whether a peer that announced peer_token shares this process's shared folder."""
    r = root()
    if r is None or not peer_token or "/" in peer_token or not peer_token.startswith(".nnr-"):
        return False
    p = os.path.join(r, peer_token)
    try:
        with open(p) as f:
            return f.read() == peer_token
    except OSError:
        return False


def inside(path: str) -> str:
    """path resolved; raises OutsideShared unless it lies inside the shared folder."""
    r = root()
    if r is None:
        raise OutsideShared(f"{path!r}: this service has no shared folder ({ENV} is not set); "
                            "send the bytes instead")
    real = os.path.realpath(path)
    if os.path.commonpath([real, r]) != r or real == r:
        raise OutsideShared(f"{path!r} is outside the shared folder {r}")
    return real


def contains(path: str) -> bool:
    """Whether path lies inside this process's shared folder (see ``inside``)."""
    try:
        inside(path)
        return True
    except OutsideShared:
        return False


def mkdtemp(prefix: str) -> str | None:
    """A fresh folder inside the shared folder, or None without one."""
    import tempfile

    r = root()
    return tempfile.mkdtemp(prefix=prefix, dir=r) if r else None


def link_or_copy(src: str, dst: str) -> None:
    """dst becomes src's content: a hard link when both lie on one file system, else a copy."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)
