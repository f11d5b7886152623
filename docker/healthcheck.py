"""Container health probe for every nnrosetta service image (Docker HEALTHCHECK, compose).

Asks the service's standard gRPC health service (grpc.health.v1, overall status "") and exits
0 only on SERVING, which a service reports once its framework has loaded. Where it asks:
127.0.0.1 (or $HOST when that is a specific address) on $NNROSETTA_HEALTH_PORT when set (the
plaintext health-only port a TLS-enabled service can open), else $PORT. Plaintext only.
Usage: python healthcheck.py [--timeout SECONDS]
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    timeout = float(argv[argv.index("--timeout") + 1]) if "--timeout" in argv else 3.0
    host = os.environ.get("HOST", "") or "127.0.0.1"
    if host in ("0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"
    port = os.environ.get("NNROSETTA_HEALTH_PORT") or os.environ.get("PORT")
    if not port or port == "0":
        print("healthcheck: no PORT / NNROSETTA_HEALTH_PORT to ask", file=sys.stderr)
        return 1
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"

    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    target = f"{host}:{port}"
    try:
        with grpc.insecure_channel(target) as ch:
            resp = health_pb2_grpc.HealthStub(ch).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout)
    except grpc.RpcError as e:
        print(f"healthcheck: {target}: {e.code().name} {e.details()}", file=sys.stderr)
        return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status)
    print(f"healthcheck: {target}: {status}")
    return 0 if status == "SERVING" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
