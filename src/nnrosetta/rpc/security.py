"""Security on the wire: TLS / mutual TLS for every service, bearer tokens for the gateway, and
the credentials the gateway (and the client) use to reach a TLS service.

Everything comes from the environment (the Helm chart sets exactly these names):

Any service, as a server (``Service`` reads these itself)
  NNROSETTA_TLS_CERT, NNROSETTA_TLS_KEY   PEM certificate chain and private key: listen with TLS
  NNROSETTA_TLS_CLIENT_CA                 PEM CA bundle: require client certificates signed by it
                                          (mutual TLS); needs NNROSETTA_TLS_CERT/KEY
  NNROSETTA_HEALTH_PORT                   also serve the gRPC health service (and nothing else)
                                          in plaintext on this port (0: any free port), for
                                          Kubernetes' gRPC probes, which cannot speak TLS

The gateway, as a client of the converters
  NNROSETTA_CONVERTER_TLS_CA              CA that signed the converters' certificates: TLS to them
  NNROSETTA_CONVERTER_TLS_CERT, NNROSETTA_CONVERTER_TLS_KEY
                                          the gateway's client certificate (mutual TLS)

The gateway, as a server
  NNROSETTA_AUTH_TOKENS_FILE              accepted tokens, one a line (blank lines and # comments
                                          ignored); re-read when the file changes
  NNROSETTA_AUTH_TOKEN                    one accepted token
  With either set, every call except the gRPC health service must carry the metadata
  ``authorization: Bearer <token>`` (server reflection too); others get UNAUTHENTICATED.

A setting that is present but broken (a missing file, a certificate without its key, a token
file with no token) stops the service at start with a message naming the variable: a service
never falls back to plaintext or to no authentication.
"""

from __future__ import annotations

import hmac
import os
import threading
from collections.abc import Callable, Mapping, Sequence

import grpc

TLS_CERT = "NNROSETTA_TLS_CERT"
TLS_KEY = "NNROSETTA_TLS_KEY"
TLS_CLIENT_CA = "NNROSETTA_TLS_CLIENT_CA"
HEALTH_PORT = "NNROSETTA_HEALTH_PORT"
CONVERTER_TLS_CA = "NNROSETTA_CONVERTER_TLS_CA"
CONVERTER_TLS_CERT = "NNROSETTA_CONVERTER_TLS_CERT"
CONVERTER_TLS_KEY = "NNROSETTA_CONVERTER_TLS_KEY"
AUTH_TOKENS_FILE = "NNROSETTA_AUTH_TOKENS_FILE"
AUTH_TOKEN = "NNROSETTA_AUTH_TOKEN"

# Calls that never need a token: Kubernetes probes and load balancers must reach health.
HEALTH_PREFIX = "/grpc.health.v1.Health/"

HOW_TO_AUTHENTICATE = ("send the metadata 'authorization: Bearer <token>' (nnrosetta CLI: "
                       "--token or $NNROSETTA_TOKEN; Python: GatewayClient(address, token=...); "
                       "grpcurl: -H 'authorization: Bearer <token>')")


class SecurityConfigError(RuntimeError):
    """A security setting is present but unusable; the message names the variable."""


def _env(env: Mapping[str, str] | None) -> Mapping[str, str]:
    return os.environ if env is None else env


def _get(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip()


def read_pem(path: str, var: str = "") -> bytes:
    where = f"{var}={path}" if var else path
    try:
        data = open(path, "rb").read()  # noqa: SIM115 - small file, read at once
    except OSError as e:
        raise SecurityConfigError(f"{where}: cannot read the file ({e.strerror or e})") from None
    if b"-----BEGIN" not in data:
        raise SecurityConfigError(f"{where}: not a PEM file (no -----BEGIN line)")
    return data


# --------------------------------------------------------------------------- server side


def server_tls_settings(env: Mapping[str, str] | None = None) -> dict[str, str] | None:
    """{"cert", "key", "client_ca"} paths from the environment, or None when TLS is off."""
    env = _env(env)
    cert, key, ca = _get(env, TLS_CERT), _get(env, TLS_KEY), _get(env, TLS_CLIENT_CA)
    if not cert and not key:
        if ca:
            raise SecurityConfigError(f"{TLS_CLIENT_CA} is set but {TLS_CERT} and {TLS_KEY} are "
                                      "not: mutual TLS needs the server's own certificate too")
        return None
    if not (cert and key):
        missing = TLS_KEY if cert else TLS_CERT
        raise SecurityConfigError(f"{TLS_CERT} and {TLS_KEY} go together: {missing} is not set")
    return {"cert": cert, "key": key, "client_ca": ca}


def server_credentials(env: Mapping[str, str] | None = None) -> grpc.ServerCredentials | None:
    """TLS server credentials (mutual TLS with NNROSETTA_TLS_CLIENT_CA), or None: plaintext."""
    s = server_tls_settings(env)
    if s is None:
        return None
    pair = (read_pem(s["key"], TLS_KEY), read_pem(s["cert"], TLS_CERT))
    ca = read_pem(s["client_ca"], TLS_CLIENT_CA) if s["client_ca"] else None
    return grpc.ssl_server_credentials([pair], root_certificates=ca,
                                       require_client_auth=ca is not None)


def health_port(env: Mapping[str, str] | None = None) -> int | None:
    v = _get(_env(env), HEALTH_PORT)
    if not v:
        return None
    try:
        port = int(v)
    except ValueError:
        raise SecurityConfigError(f"{HEALTH_PORT}={v!r}: not a port number") from None
    if not 0 <= port < 65536:
        raise SecurityConfigError(f"{HEALTH_PORT}={v!r}: not a port number")
    return port


def health_only_server(health_servicer, host: str, port: int) -> tuple[grpc.Server, int]:
    """A plaintext server with the given HealthServicer and nothing else (no reflection)."""
    from concurrent import futures

    from grpc_health.v1 import health_pb2_grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2),
                         options=[("grpc.so_reuseport", 0)])
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound == 0:
        raise RuntimeError(f"cannot listen on {host}:{port} for {HEALTH_PORT}")
    return server, bound


# --------------------------------------------------------------------------- tokens


def parse_tokens(text: str) -> list[str]:
    """One token a line; blank lines and # comments ignored; surrounding spaces stripped."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


class TokenSource:
    """The accepted tokens: NNROSETTA_AUTH_TOKEN plus NNROSETTA_AUTH_TOKENS_FILE's lines. The
    file is re-read when its modification time or size changes (a rotated Kubernetes Secret);
    if it becomes unreadable or empty the last good set stays in force."""

    def __init__(self, token: str = "", path: str = ""):
        self.token = token.strip()
        self.path = path
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._file_tokens: list[str] = []
        if path:
            self._load(initial=True)
        if not self.tokens():
            raise SecurityConfigError(
                f"{AUTH_TOKENS_FILE}={path} holds no token (one a line; # starts a comment)"
                if path else f"{AUTH_TOKEN} is empty")

    def _load(self, initial: bool = False) -> None:
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            if stamp == self._stamp:
                return
            with open(self.path, encoding="utf-8") as f:
                tokens = parse_tokens(f.read())
        except (OSError, UnicodeDecodeError) as e:
            if initial:
                raise SecurityConfigError(
                    f"{AUTH_TOKENS_FILE}={self.path}: cannot read the file ({e})") from None
            return
        if tokens or initial:
            self._file_tokens = tokens
        self._stamp = stamp
        if not initial:
            from nnrosetta.rpc.server import log_event

            log_event("auth tokens reloaded", file=self.path, count=len(self._file_tokens))

    def tokens(self) -> list[str]:
        if self.path:
            with self._lock:
                self._load()
        return ([self.token] if self.token else []) + self._file_tokens


def token_source_from_env(env: Mapping[str, str] | None = None) -> TokenSource | None:
    env = _env(env)
    token, path = env.get(AUTH_TOKEN), _get(env, AUTH_TOKENS_FILE)
    if token is None and not path:
        return None
    return TokenSource(token or "", path)


def token_matches(given: str, accepted: Sequence[str]) -> bool:
    """Constant-time comparison against every accepted token (no early exit)."""
    g = given.encode()
    ok = False
    for t in accepted:
        ok |= hmac.compare_digest(g, t.encode())
    return ok


def bearer_token(metadata: Sequence[tuple[str, str | bytes]] | None) -> str | None:
    """The token of an 'authorization: Bearer <token>' header; None when there is none."""
    for k, v in metadata or ():
        if k.lower() != "authorization":
            continue
        if isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        scheme, _, rest = v.strip().partition(" ")
        if scheme.lower() == "bearer" and rest.strip():
            return rest.strip()
        return ""
    return None


def _deny_handler(handler: grpc.RpcMethodHandler, message: str) -> grpc.RpcMethodHandler:
    def deny(_request, context):
        context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

    kw = {"request_deserializer": handler.request_deserializer,
          "response_serializer": handler.response_serializer}
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(deny, **kw)
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(deny, **kw)
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(deny, **kw)
    return grpc.stream_stream_rpc_method_handler(deny, **kw)


class TokenAuthInterceptor(grpc.ServerInterceptor):
    """Every call but the health service needs 'authorization: Bearer <accepted token>'.
    Tokens are never logged; a refusal logs the method and why."""

    def __init__(self, tokens: TokenSource | Sequence[str] | Callable[[], Sequence[str]],
                 exempt_prefixes: Sequence[str] = (HEALTH_PREFIX,)):
        if isinstance(tokens, TokenSource):
            self._tokens = tokens.tokens
        elif callable(tokens):
            self._tokens = tokens
        else:
            fixed = list(tokens)
            self._tokens = lambda: fixed
        self.exempt = tuple(exempt_prefixes)

    def check(self, method: str, metadata) -> str | None:
        """None when the call may go on, else the refusal's message."""
        if method.startswith(self.exempt):
            return None
        given = bearer_token(metadata)
        if given is None:
            return f"this gateway requires a token: {HOW_TO_AUTHENTICATE}"
        if not given or not token_matches(given, self._tokens()):
            return ("the token was not accepted (wrong, expired or malformed): check the "
                    f"token you were given, then {HOW_TO_AUTHENTICATE}")
        return None

    def intercept_service(self, continuation, handler_call_details):
        method = handler_call_details.method or ""
        refusal = self.check(method, handler_call_details.invocation_metadata)
        handler = continuation(handler_call_details)
        if refusal is None or handler is None:
            return handler
        from nnrosetta.rpc.server import log_event

        log_event("unauthenticated", method=method,
                  reason="no token" if refusal.startswith("this gateway") else "bad token")
        return _deny_handler(handler, refusal)


def auth_interceptor_from_env(env: Mapping[str, str] | None = None
                              ) -> TokenAuthInterceptor | None:
    src = token_source_from_env(env)
    return TokenAuthInterceptor(src) if src is not None else None


# --------------------------------------------------------------------------- client side


def channel_credentials(ca: str | None = None, cert: str | None = None,
                        key: str | None = None, *, vars: tuple[str, str, str] = ("", "", "")
                        ) -> grpc.ChannelCredentials:
    """TLS channel credentials from PEM paths: ca (None: the system's roots), cert+key (a client
    certificate, for mutual TLS)."""
    if bool(cert) != bool(key):
        cvar, kvar = vars[1] or "the client certificate", vars[2] or "the client key"
        raise SecurityConfigError(f"{cvar} and {kvar} go together: "
                                  f"{kvar if cert else cvar} is not set")
    return grpc.ssl_channel_credentials(
        root_certificates=read_pem(ca, vars[0]) if ca else None,
        private_key=read_pem(key, vars[2]) if key else None,
        certificate_chain=read_pem(cert, vars[1]) if cert else None)


def converter_channel_credentials(env: Mapping[str, str] | None = None
                                  ) -> grpc.ChannelCredentials | None:
    """The gateway's credentials for the converters; None: plaintext."""
    env = _env(env)
    ca, cert, key = (_get(env, CONVERTER_TLS_CA), _get(env, CONVERTER_TLS_CERT),
                     _get(env, CONVERTER_TLS_KEY))
    if not (ca or cert or key):
        return None
    return channel_credentials(ca or None, cert or None, key or None,
                               vars=(CONVERTER_TLS_CA, CONVERTER_TLS_CERT, CONVERTER_TLS_KEY))


def tls_channel_options(address: str, server_name: str | None) -> list[tuple[str, str]]:
    """Channel options that make TLS check the certificate against `server_name` (the DNS name
    an address was resolved from) instead of the IP the channel dials."""
    if not server_name:
        return []
    port = address.rpartition(":")[2]
    return [("grpc.ssl_target_name_override", server_name),
            ("grpc.default_authority", f"{server_name}:{port}" if port.isdigit()
             else server_name)]


ChannelFactory = Callable[..., grpc.Channel]


def converter_channel_factory(env: Mapping[str, str] | None = None) -> ChannelFactory:
    """channel(address, server_name=None) for the gateway's pool: plaintext, or TLS/mutual TLS
    per NNROSETTA_CONVERTER_TLS_*; server_name is the DNS name `address` was expanded from."""
    creds = converter_channel_credentials(env)

    def factory(address: str, server_name: str | None = None) -> grpc.Channel:
        if creds is None:
            return grpc.insecure_channel(address)
        return grpc.secure_channel(address, creds,
                                   options=tls_channel_options(address, server_name))

    factory.tls = creds is not None  # type: ignore[attr-defined]
    return factory


def describe(env: Mapping[str, str] | None = None) -> dict[str, object]:
    """What is on, for the 'security' log line (never a secret)."""
    env = _env(env)
    return {
        "tls": bool(_get(env, TLS_CERT)),
        "mutual_tls": bool(_get(env, TLS_CLIENT_CA)),
        "health_port": _get(env, HEALTH_PORT) or None,
    }
