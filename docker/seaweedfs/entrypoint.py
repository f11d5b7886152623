"""Start SeaweedFS (`weed mini`: master, volume, filer and S3 in one process) as the S3 server
of an nnrosetta stack. Configuration (environment):

  S3_ACCESS_KEY, S3_SECRET_KEY  the one identity allowed in (Admin, Read, Write, List, Tagging);
                                required unless S3_CONFIG names an identities file
  S3_CONFIG                     an existing SeaweedFS identities file (s3.json) to use instead
  S3_PORT                       S3 API port (default 8333)
  HOST                          address every port binds to (default 0.0.0.0)
  WEED_IP                       address the components advertise to each other (default: HOST,
                                or 127.0.0.1 when HOST is a wildcard; all run in this process)
  WEED_DIR                      data folder (default /data)
  WEED_MASTER_PORT, WEED_MASTER_GRPC_PORT, WEED_VOLUME_PORT, WEED_VOLUME_GRPC_PORT,
  WEED_FILER_PORT, WEED_FILER_GRPC_PORT, S3_GRPC_PORT, WEED_ADMIN_PORT, WEED_ADMIN_GRPC_PORT
                                the other ports `weed mini` opens (unset: weed's defaults; set
                                them all when sharing the host's network with another weed)
Arguments are passed on to `weed mini`. Telemetry, WebDAV, the admin UI and the Iceberg and
Lance endpoints are off. The secret key is written to a 0600 file under $TMPDIR (default
/tmp), never to the command line.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

PORT_FLAGS = {
    "WEED_MASTER_PORT": "master.port", "WEED_MASTER_GRPC_PORT": "master.port.grpc",
    "WEED_VOLUME_PORT": "volume.port", "WEED_VOLUME_GRPC_PORT": "volume.port.grpc",
    "WEED_FILER_PORT": "filer.port", "WEED_FILER_GRPC_PORT": "filer.port.grpc",
    "S3_GRPC_PORT": "s3.port.grpc",
    "WEED_ADMIN_PORT": "admin.port", "WEED_ADMIN_GRPC_PORT": "admin.port.grpc",
}


def main(argv: list[str]) -> None:
    env = os.environ
    config = env.get("S3_CONFIG", "")
    if not config:
        access, secret = env.get("S3_ACCESS_KEY", ""), env.get("S3_SECRET_KEY", "")
        if not access or not secret:
            sys.exit("nnrosetta-seaweedfs: set S3_ACCESS_KEY and S3_SECRET_KEY (or S3_CONFIG)")
        fd, config = tempfile.mkstemp(prefix="s3-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump({"identities": [{
                "name": "admin",
                "credentials": [{"accessKey": access, "secretKey": secret}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}, f)
    host = env.get("HOST", "") or "0.0.0.0"
    ip = env.get("WEED_IP", "") or ("127.0.0.1" if host in ("0.0.0.0", "::") else host)
    data = env.get("WEED_DIR", "") or "/data"
    os.makedirs(data, exist_ok=True)
    cmd = ["weed", "mini", f"-dir={data}", f"-ip={ip}", f"-ip.bind={host}",
           "-master.telemetry=false", "-webdav=false", "-admin.ui=false",
           "-s3.port.iceberg=0", "-s3.port.lance=0",
           f"-s3.port={env.get('S3_PORT', '') or '8333'}", f"-s3.config={config}"]
    cmd += [f"-{flag}={env[var]}" for var, flag in PORT_FLAGS.items() if env.get(var)]
    cmd += argv
    print("nnrosetta-seaweedfs:", " ".join(cmd), flush=True)
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    main(sys.argv[1:])
