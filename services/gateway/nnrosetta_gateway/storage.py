"""Object storage for the gateway: ``s3://bucket/key`` (any S3 server: SeaweedFS, MinIO, AWS)
and ``file:///abs/path`` (the embedded default: a folder as object storage).

Only the gateway holds storage credentials (the standard AWS_* environment variables,
AWS_ENDPOINT_URL for a non-AWS server). Outputs are staged in a local folder and published
only when the whole conversion succeeded; a failure leaves nothing at the destination."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import grpc

from nnrosetta import shared
from nnrosetta.rpc.errors import ConversionError, Issue


@dataclass(frozen=True)
class Location:
    scheme: str   # "s3" or "file"
    bucket: str   # s3 only
    path: str     # s3 key (no leading slash) or absolute local path

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.path}" if self.scheme == "s3" else f"file://{self.path}"

    def child(self, name: str) -> Location:
        base = self.path.rstrip("/")
        return Location(self.scheme, self.bucket, f"{base}/{name}" if base else name)


def parse_uri(uri: str, field: str) -> Location:
    u = urlparse(uri)
    if u.scheme == "s3":
        if not u.netloc:
            raise _bad(field, f"{uri!r}: an s3 URI needs a bucket (s3://bucket/key)")
        return Location("s3", u.netloc, unquote(u.path).lstrip("/"))
    if u.scheme == "file":
        path = unquote(u.path)
        if not os.path.isabs(path):
            raise _bad(field, f"{uri!r}: a file URI needs an absolute path (file:///abs/path)")
        roots = [r for r in os.environ.get("NNROSETTA_FILE_ROOTS", "").split(":") if r]
        real = os.path.realpath(path)
        if roots and not any(real == r or real.startswith(r.rstrip("/") + "/") for r in roots):
            raise ConversionError(grpc.StatusCode.PERMISSION_DENIED,
                                  f"{field}: {path} is outside the gateway's file roots",
                                  [Issue("FILE_ROOT", field, f"allowed: {roots}")],
                                  reason="FILE_ROOT")
        return Location("file", "", path)
    raise _bad(field, f"{uri!r}: use s3://bucket/key or file:///abs/path")


def _bad(field: str, msg: str) -> ConversionError:
    return ConversionError(grpc.StatusCode.INVALID_ARGUMENT, msg, [Issue("BAD_URI", field, msg)],
                           reason="BAD_URI")


class Storage:
    def __init__(self) -> None:
        self._s3 = None

    @property
    def s3(self):
        if self._s3 is None:
            import boto3
            from botocore.config import Config

            self._s3 = boto3.client(
                "s3", endpoint_url=os.environ.get("AWS_ENDPOINT_URL") or None,
                region_name=os.environ.get("AWS_REGION", "us-east-1"),
                config=Config(retries={"max_attempts": 3}, s3={"addressing_style": "path"}))
        return self._s3

    # -- reading ---------------------------------------------------------------------------
    def fetch(self, loc: Location, dest: Path, field: str) -> Path:
        """Copy the object at loc to dest (a local file); clear errors when it is missing."""
        if loc.scheme == "file":
            if not os.path.isfile(loc.path):
                raise ConversionError(grpc.StatusCode.NOT_FOUND, f"{field}: no file {loc.path}",
                                      [Issue("NOT_FOUND", field, f"{loc} does not exist")],
                                      reason="NOT_FOUND")
            return Path(loc.path)  # read in place: no copy
        try:
            self.s3.download_file(loc.bucket, loc.path, str(dest))
        except Exception as e:  # botocore raises a zoo of types
            code, msg = _s3_error(e)
            raise ConversionError(code, f"{field}: cannot read {loc}: {msg}",
                                  [Issue("STORAGE", field, f"{loc}: {msg}")],
                                  reason="STORAGE") from e
        return dest

    def is_folder(self, loc: Location) -> bool:
        """A folder source (a SavedModel): a local directory, or an s3 URI ending in '/'."""
        if loc.scheme == "file":
            return os.path.isdir(loc.path)
        return loc.path.endswith("/") or not loc.path

    def fetch_folder(self, loc: Location, dest: Path, field: str,
                     limit: int = 100_000) -> dict[str, Path]:
        """Every file under the folder loc: relative path -> local path (read in place for
        local folders, downloaded under dest for s3)."""
        out: dict[str, Path] = {}
        if loc.scheme == "file":
            for d, dirs, names in os.walk(loc.path):
                dirs.sort()
                for n in sorted(names):
                    p = Path(d) / n
                    if p.is_file():
                        out[p.relative_to(loc.path).as_posix()] = p
        else:
            prefix = loc.path
            try:
                pages = self.s3.get_paginator("list_objects_v2").paginate(
                    Bucket=loc.bucket, Prefix=prefix)
                keys = [o["Key"] for page in pages for o in page.get("Contents", [])
                        if not o["Key"].endswith("/")]
                for key in keys[:limit]:
                    rel = key[len(prefix):]
                    local = dest / rel
                    local.parent.mkdir(parents=True, exist_ok=True)
                    self.s3.download_file(loc.bucket, key, str(local))
                    out[rel] = local
            except Exception as e:  # botocore raises a zoo of types
                code, msg = _s3_error(e)
                raise ConversionError(code, f"{field}: cannot read {loc}: {msg}",
                                      [Issue("STORAGE", field, f"{loc}: {msg}")],
                                      reason="STORAGE") from e
        bad = [r for r in out if r.startswith("../") or r.startswith("/")]
        if not out or bad:
            msg = f"{loc} holds no files" if not out else f"{loc}: bad relative paths {bad}"
            raise ConversionError(grpc.StatusCode.NOT_FOUND, f"{field}: {msg}",
                                  [Issue("NOT_FOUND", field, msg)], reason="NOT_FOUND")
        return out

    # -- writing ---------------------------------------------------------------------------
    def existing(self, loc: Location, names: list[str]) -> list[str]:
        """Which of names already exist under the folder loc."""
        if loc.scheme == "file":
            return [n for n in names if os.path.exists(os.path.join(loc.path, n))]
        found = []
        for n in names:
            try:
                self.s3.head_object(Bucket=loc.bucket, Key=loc.child(n).path)
                found.append(n)
            except Exception as e:
                code, _ = _s3_error(e)
                if code != grpc.StatusCode.NOT_FOUND:
                    raise _storage_error(loc, e) from e
        return found

    def check_writable(self, loc: Location) -> None:
        """Fail early (before any conversion work) when the destination cannot be written."""
        if loc.scheme == "file":
            parent = loc.path
            while not os.path.exists(parent):
                parent = os.path.dirname(parent)
            if not os.access(parent, os.W_OK):
                raise ConversionError(grpc.StatusCode.PERMISSION_DENIED,
                                      f"destination {loc} is not writable",
                                      [Issue("NOT_WRITABLE", "destination", str(loc))],
                                      reason="NOT_WRITABLE")
            return
        try:
            self.s3.head_bucket(Bucket=loc.bucket)
        except Exception as e:
            raise _storage_error(loc, e) from e

    def publish(self, staging: Path, loc: Location, names: list[str]) -> list[str]:
        """Move staged files to loc all together; on failure remove what was written."""
        written: list[str] = []
        try:
            if loc.scheme == "file":
                os.makedirs(loc.path, exist_ok=True)
                tmp = os.path.join(loc.path, f".nnrosetta-{uuid.uuid4().hex}")
                os.mkdir(tmp)
                try:
                    for n in names:   # a hard link when on one file system: no copy
                        if "/" in n:   # inside a folder artifact (a SavedModel)
                            os.makedirs(os.path.dirname(os.path.join(tmp, n)), exist_ok=True)
                        shared.link_or_copy(str(staging / n), os.path.join(tmp, n))
                    for n in names:
                        if "/" in n:
                            os.makedirs(os.path.dirname(os.path.join(loc.path, n)),
                                        exist_ok=True)
                        os.replace(os.path.join(tmp, n), os.path.join(loc.path, n))
                        written.append(str(loc.child(n)))
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
            else:
                for n in names:
                    self.s3.upload_file(str(staging / n), loc.bucket, loc.child(n).path)
                    written.append(str(loc.child(n)))
        except Exception as e:
            self.remove(written)
            if isinstance(e, ConversionError):
                raise
            raise _storage_error(loc, e) from e
        return written

    def remove(self, uris: list[str]) -> None:
        for uri in uris:
            loc = parse_uri(uri, "cleanup")
            try:
                if loc.scheme == "file":
                    os.unlink(loc.path)
                else:
                    self.s3.delete_object(Bucket=loc.bucket, Key=loc.path)
            except Exception:  # noqa: BLE001 - best effort cleanup
                pass


def _s3_error(e: Exception) -> tuple[grpc.StatusCode, str]:
    resp = getattr(e, "response", None) or {}
    err = resp.get("Error", {}) if isinstance(resp, dict) else {}
    code = str(err.get("Code", ""))
    msg = err.get("Message") or str(e)
    if code in ("404", "NoSuchKey", "NoSuchBucket", "NotFound"):
        return grpc.StatusCode.NOT_FOUND, f"not found ({code})"
    if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return grpc.StatusCode.PERMISSION_DENIED, f"access denied ({code}): check the "\
            "gateway's AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
    if "Could not connect" in str(e) or "Connect timeout" in str(e):
        return grpc.StatusCode.UNAVAILABLE, f"storage unreachable: {e} (check AWS_ENDPOINT_URL)"
    return grpc.StatusCode.UNAVAILABLE, msg


def _storage_error(loc: Location, e: Exception) -> ConversionError:
    code, msg = _s3_error(e)
    return ConversionError(code, f"storage error at {loc}: {msg}",
                           [Issue("STORAGE", str(loc), msg)], reason="STORAGE")
