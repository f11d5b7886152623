"""Container health probe for the SeaweedFS image: GET /healthz on the S3 port
(127.0.0.1, or $HOST when that is a specific address); exit 0 on HTTP 200."""

from __future__ import annotations

import os
import sys
import urllib.request

host = os.environ.get("HOST", "") or "127.0.0.1"
if host in ("0.0.0.0", "::"):
    host = "127.0.0.1"
url = f"http://{host}:{os.environ.get('S3_PORT', '') or '8333'}/healthz"
try:
    with urllib.request.urlopen(url, timeout=3) as r:  # noqa: S310 - fixed local http URL
        ok = r.status == 200
except OSError as e:
    print(f"healthcheck: {url}: {e}", file=sys.stderr)
    sys.exit(1)
print(f"healthcheck: {url}: {'ok' if ok else 'not ok'}")
sys.exit(0 if ok else 1)
