"""`nnrosetta`: convert models from the command line (MMdnn's flags work), and run the local stack.

    nnrosetta convert -sf caffe -in net.prototxt -iw net.caffemodel -df pytorch -om out/
    nnrosetta toir -f caffe -n net.prototxt -w net.caffemodel -o ir/
    nnrosetta tocode -f pytorch -n ir/graph.pb -w ir/weights.npz -o code/
    nnrosetta up | status | converters | down

Without --gateway (or $NNROSETTA_GATEWAY) a command uses the stack `nnrosetta up` started, or
starts a temporary one for itself. Exit codes: 0 done, 1 failed, 2 bad input or unsupported,
3 converted but verification failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import unquote, urlparse

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_VERIFY = 0, 1, 2, 3

# gRPC status codes that mean "your input / request is the problem" (exit 2).
BAD_INPUT_CODES = {"INVALID_ARGUMENT", "UNIMPLEMENTED", "FAILED_PRECONDITION", "NOT_FOUND",
                   "ALREADY_EXISTS", "OUT_OF_RANGE"}

CODE_HINTS = {
    "INVALID_ARGUMENT": "fix what the issues above name and run the command again",
    "UNIMPLEMENTED": "this conversion is not supported yet; `nnrosetta converters` lists what "
                     "each converter reads and writes",
    "FAILED_PRECONDITION": "fix what the issues above name and run the command again",
    "NOT_FOUND": "check the input paths/URIs (for s3:// also the bucket and AWS_* settings)",
    "ALREADY_EXISTS": "the destination already has files: pass --overwrite or choose another "
                      "output folder",
    "OUT_OF_RANGE": "check the values named above",
    "UNAVAILABLE": "a service is not reachable: `nnrosetta status` shows the local stack and "
                   "where its logs are",
    "DEADLINE_EXCEEDED": "a service took too long: `nnrosetta status` shows the local stack and "
                         "where its logs are",
    "UNAUTHENTICATED": "check --token / $NNROSETTA_TOKEN and the AWS_* credentials",
    "PERMISSION_DENIED": "check --token / $NNROSETTA_TOKEN and the AWS_* credentials",
}
ISSUE_HINTS = {
    "MISSING_INPUT_SHAPE": "pass the input's shape: --input-shape NAME:N,C,H,W",
    "UNSUPPORTED_LAYER": "`nnrosetta converters --json` lists the ops each converter supports",
    "UNSUPPORTED_OP": "`nnrosetta converters --json` lists the ops each converter supports",
}

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SHAPE = re.compile(r"^[^;]+:\d+(,\d+)*$")


class UsageError(Exception):
    """Bad command-line input (exit 2)."""


# --------------------------------------------------------------------------- parsing


def _add_auth_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--token", default=None, help="bearer token for the gateway "
                                                 "(default $NNROSETTA_TOKEN)")
    p.add_argument("--tls-ca", dest="tls_ca", default=None, metavar="PEM",
                   help="talk TLS to the gateway, trusting this CA (without it, but with "
                        "--tls-cert: the system's CAs)")
    p.add_argument("--tls-cert", dest="tls_cert", default=None, metavar="PEM",
                   help="client certificate for a gateway that requires mutual TLS")
    p.add_argument("--tls-key", dest="tls_key", default=None, metavar="PEM",
                   help="the client certificate's private key")


def _add_run_flags(p: argparse.ArgumentParser, *, dry_run: bool = True) -> None:
    p.add_argument("--input-shape", "--inputShape", dest="input_shape", action="append",
                   default=[], metavar="NAME:N,C,H,W",
                   help="shape of an input (repeatable), e.g. data:1,3,224,224")
    p.add_argument("--option", dest="option", action="append", default=[], metavar="K=V",
                   help="converter option (repeatable), e.g. artifacts=all")
    p.add_argument("--tolerance", type=float, default=None,
                   help="max abs error relative to each output's scale (default 1e-4)")
    p.add_argument("--seed", type=int, default=None, help="seed of the generated test inputs")
    p.add_argument("--no-verify", dest="no_verify", action="store_true",
                   help="skip the numeric check of the result")
    p.add_argument("--overwrite", action="store_true",
                   help="replace existing files at the destination")
    p.add_argument("--gateway", default=None, metavar="HOST:PORT",
                   help="gateway to use (default: $NNROSETTA_GATEWAY, the `nnrosetta up` "
                        "stack, or a temporary local stack)")
    _add_auth_flags(p)
    if dry_run:
        p.add_argument("--dry-run", dest="dry_run", action="store_true",
                       help="print the plan, convert nothing")
    p.add_argument("--json", action="store_true",
                   help="print the report (or plan) as JSON on stdout")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="nnrosetta", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Exit codes: 0 done, 1 failed, 2 bad input or unsupported, "
               "3 verification failed.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def conversion(name: str, help: str, *, output_required: bool = True,
                   dry_run: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, allow_abbrev=False)
        p.add_argument("-sf", "--srcFramework", "--source-format", dest="source_format",
                       required=True, help="source format: caffe, onnx, keras (.keras/.h5), "
                       "tensorflow (SavedModel folder or frozen .pb), ir")
        p.add_argument("-in", "--inputNetwork", "--network", dest="network",
                       help="network file (caffe: .prototxt; keras: .keras/.h5; tensorflow: "
                       "a SavedModel folder or a frozen .pb)")
        p.add_argument("-iw", "--inputWeight", "--weights", dest="weights",
                       help="weights file (caffe: .caffemodel)")
        p.add_argument("--source", dest="source", action="append", default=[],
                       metavar="ROLE=PATH", help="another source file by role (repeatable)")
        p.add_argument("--require", dest="require", action="append", default=[],
                       metavar="NAME=SPEC",
                       help="framework version a converter must run, e.g. keras='<3' or "
                       "tensorflow='==2.15' (repeatable; by default the source file's own "
                       "version picks the frontend)")
        p.add_argument("-df", "--dstFramework", "--target-format", dest="target_format",
                       required=True, help="target format: pytorch, onnx, keras, tensorflow, ir")
        p.add_argument("-om", "--outputModel", "--output", dest="output",
                       required=output_required,
                       help="output folder (local path or s3://bucket/prefix)")
        _add_run_flags(p, dry_run=dry_run)
        return p

    conversion("convert", "convert a model (MMdnn mmconvert flags work)")
    conversion("plan", "show how a conversion would run", output_required=False,
               dry_run=False)

    def from_ir(name: str, help: str) -> None:
        p = sub.add_parser(name, help=help, description=help, allow_abbrev=False)
        p.add_argument("-f", "--dstFramework", "--target-format", dest="target_format",
                       required=True, help="target framework: pytorch, ...")
        p.add_argument("-n", "--IRModelPath", "--network", dest="network", required=True,
                       help="IR graph (graph.pb)")
        p.add_argument("-w", "--IRWeightPath", "--weights", dest="weights", required=True,
                       help="IR weights (weights.npz)")
        p.add_argument("-o", "--dstModelPath", "--output", dest="output", required=True,
                       help="output folder")
        _add_run_flags(p)

    p = sub.add_parser("toir", help="convert a model to the IR (MMdnn mmtoir flags work)",
                       allow_abbrev=False)
    p.add_argument("-f", "--srcFramework", "--source-format", dest="source_format",
                   required=True, help="source framework: caffe, ...")
    p.add_argument("-n", "--network", "--inputNetwork", dest="network", required=True,
                   help="network file")
    p.add_argument("-w", "--weights", "--inputWeight", dest="weights", help="weights file")
    p.add_argument("-o", "--output", "--outputModel", dest="output", required=True,
                   help="output folder for graph.pb + weights.npz")
    _add_run_flags(p)
    from_ir("tocode", "write model code + weights from the IR (MMdnn mmtocode)")
    from_ir("tomodel", "write a ready-to-load model from the IR (MMdnn mmtomodel)")

    p = sub.add_parser("up", help="start the local stack and leave it running")
    p.add_argument("--services", default=None, metavar="A,B",
                   help="converters to start (default: all); the gateway always starts")
    p.add_argument("--replicas", dest="replicas", action="append", default=[],
                   metavar="NAME=N", help="start N processes of converter NAME (the gateway "
                                          "spreads calls over them); repeatable")
    sub.add_parser("down", help="stop the local stack")
    sub.add_parser("status", help="show the local stack's services")
    p = sub.add_parser("converters", help="list the converters the gateway knows")
    p.add_argument("--gateway", default=None, metavar="HOST:PORT")
    _add_auth_flags(p)
    p.add_argument("--json", action="store_true")
    return ap


def to_uri(path: str) -> str:
    """Local paths become file:///abs URIs; s3://, file:// and other URIs pass through."""
    if _SCHEME.match(path):
        return path
    return Path(path).expanduser().resolve().as_uri()


def _pairs(items: Sequence[str], flag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for it in items:
        k, sep, v = it.partition("=")
        if not sep or not k:
            raise UsageError(f"{flag} expects KEY=VALUE, got {it!r}")
        out[k.strip()] = v
    return out


def _requirements(items: Sequence[str]) -> dict[str, str]:
    """--require keras=<3 / tensorflow==2.15 / keras=2 -> {name: version constraint}."""
    out: dict[str, str] = {}
    for it in items:
        m = re.match(r"\s*([A-Za-z][\w.-]*)\s*(.*)$", it)
        spec = m.group(2).strip() if m else ""
        if spec.startswith("=") and not spec.startswith("=="):
            spec = spec[1:].strip()
        if not m or not spec:
            raise UsageError(f"--require expects NAME=SPEC (keras='<3', tensorflow==2.15), "
                             f"got {it!r}")
        out[m.group(1).lower()] = spec
    return out


def request_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The GatewayClient.convert keyword arguments the command line asks for."""
    cmd = args.command
    options = _pairs(args.option, "--option")
    if cmd in ("convert", "plan", "toir"):
        source_format = args.source_format
        target_format = "ir" if cmd == "toir" else args.target_format
    else:  # tocode / tomodel
        source_format = "ir"
        target_format = args.target_format
        options["artifacts"] = "code" if cmd == "tocode" else "model"
    source: dict[str, str] = {}
    if args.network:
        source["network"] = args.network
    if args.weights:
        source["weights"] = args.weights
    source.update(_pairs(getattr(args, "source", []), "--source"))
    if not source and cmd != "plan":   # a plan needs formats only
        raise UsageError("no source files: pass the network (-in/--network) and weights "
                         "(-iw/--weights)")
    if args.input_shape:
        for s in args.input_shape:
            if not _SHAPE.match(s.replace(" ", "")):
                raise UsageError(f"--input-shape expects NAME:N,C,H,W, got {s!r}")
        options["input_shape"] = ";".join(s.replace(" ", "") for s in args.input_shape)
    verify: dict[str, Any] = {}
    if args.no_verify:
        verify["skip"] = True
    if args.tolerance is not None:
        if args.tolerance <= 0:
            raise UsageError("--tolerance must be > 0")
        verify["tolerance"] = args.tolerance
    if args.seed is not None:
        verify["seed"] = args.seed
    return {
        "source_format": source_format.lower(),
        "source": {role: to_uri(p) for role, p in source.items()},
        "target_format": target_format.lower(),
        "destination": to_uri(args.output) if args.output else "",
        "options": options,
        "constraints": _requirements(getattr(args, "require", [])),
        "verify": verify or None,
        "overwrite": bool(args.overwrite),
    }


def _check_local_inputs(req: dict[str, Any]) -> None:
    for role, uri in req["source"].items():
        if uri.startswith("file://"):
            p = Path(unquote(urlparse(uri).path))
            if not p.is_file() and not p.is_dir():   # a folder: a SavedModel
                raise UsageError(f"{role} file not found: {p}")


# --------------------------------------------------------------------------- output


class Reporter:
    """Prints ConvertEvents as stage lines with elapsed seconds (on stderr)."""

    def __init__(self, stream: TextIO | None = None, t0: float | None = None):
        self.stream = stream or sys.stderr
        self.t0 = t0 if t0 is not None else time.monotonic()
        self.plan = None
        self._last: dict[tuple[int, str], float] = {}

    def say(self, msg: str) -> None:
        print(f"[{time.monotonic() - self.t0:6.1f}s] {msg}", file=self.stream, flush=True)

    def hop_label(self, hop: int) -> str:
        if hop < 0:
            return "gateway"
        if self.plan is not None and hop < len(self.plan.hop):
            h = self.plan.hop[hop]
            return f"{h.service or 'hop ' + str(hop)} {h.action}"
        return f"hop {hop}"

    def on_event(self, ev: Any) -> None:
        kind = ev.WhichOneof("event")
        if kind == "plan":
            self.plan = ev.plan
            for line in plan_lines(ev.plan):
                self.say(line)
        elif kind == "progress":
            st = ev.progress
            key = (st.hop, st.stage)
            frac = st.fraction
            if 0.0 <= frac < 1.0 and key in self._last and frac - self._last[key] < 0.1:
                return  # throttle fine-grained progress
            self._last[key] = frac
            pct = f" {frac * 100:3.0f}%" if frac >= 0 else ""
            msg = f": {st.message}" if st.message else ""
            self.say(f"{self.hop_label(st.hop)} {st.stage}{pct}{msg}")
        elif kind == "result":
            self.say(f"done: {len(ev.result.outputs)} file(s) written")


def plan_lines(plan: Any) -> list[str]:
    hops = list(plan.hop)
    lines = [f"plan: {' -> '.join([hops[0].from_format] + [h.to_format for h in hops])}"
             if hops else "plan: nothing to do"]
    for i, h in enumerate(hops):
        ver = f" [{h.framework_version}]" if h.framework_version else ""
        lines.append(f"  hop {i}: {h.service} {h.action} {h.from_format} -> {h.to_format}"
                     f"{ver} at {h.address}")
    if plan.verify_with:
        lines.append(f"  verify: {plan.verify_with}")
    return lines


def _first(d: dict, *keys: str) -> Any:
    for k in keys:
        if k in d and d[k] is not None:
            return d[k]
    return None


def _fmt(x: Any) -> str:
    return f"{x:.3g}" if isinstance(x, int | float) else ("-" if x is None else str(x))


def verification_rows(report: dict) -> tuple[dict, list[dict]]:
    """(verification section, rows of name/max_abs/max_rel/tolerance/passed) from a report;
    tolerant of the spelling of the keys."""
    v = _first(report, "verification", "verify") or {}
    if not isinstance(v, dict):
        v = {"status": v}
    outs = _first(v, "outputs", "results", "per_output") or []
    items = list(outs.items()) if isinstance(outs, dict) else \
        [(_first(o, "name", "output") or f"#{i}", o) for i, o in enumerate(outs)]
    # the input of a final Softmax is checked too: a softmax over many classes hides errors
    items += [(f"{o.get('name', '?')} (pre-softmax)", o) for o in v.get("pre_softmax") or []]
    # the delivered model's other forms (e.g. the TorchScript file), compared the same way
    for form in (v.get("forms") or [])[1:]:
        tag = ", ".join(f"{k}={x}" for k, x in sorted((form.get("run_options") or {}).items()))
        items += [(f"{o.get('name', '?')} ({tag or 'defaults'})", o)
                  for o in form.get("outputs") or []]
    rows = []
    for name, o in items:
        o = o if isinstance(o, dict) else {}
        tol = _first(o, "tolerance", "tol")
        tol = tol if tol is not None else _first(v, "tolerance", "tol")
        rel = _first(o, "max_rel", "max_rel_error", "max_rel_err", "rel_error", "rel")
        scaled = _first(o, "error_relative_to_scale", "scaled_error")
        passed = _first(o, "passed", "ok", "pass", "within_tolerance")
        measure = scaled if scaled is not None else rel
        if passed is None and measure is not None and tol is not None:
            passed = measure <= tol
        rows.append({"name": name, "tolerance": tol, "max_rel": rel, "passed": passed,
                     "scaled": scaled,
                     "max_abs": _first(o, "max_abs", "max_abs_error", "max_abs_err",
                                       "abs_error", "abs")})
    return v, rows


def summary_lines(result: Any, elapsed: float) -> tuple[list[str], bool]:
    """Lines that end a conversion and whether it passed (skipped verification passes)."""
    report = result.report if isinstance(result.report, dict) else {}
    lines = [f"outputs written ({len(result.outputs)}):"]
    lines += [f"  {u}" for u in result.outputs]
    v, rows = verification_rows(report)
    skipped = bool(_first(v, "skipped", "skip")) or v.get("status") == "skipped"
    if skipped:
        why = v.get("reason")
        lines.append("verification skipped" + (f" ({why})" if why else ""))
        lines.append(f"DONE (not verified) in {elapsed:.1f}s")
        return lines, True
    head = "verification"
    if v.get("method"):
        head += f" ({v['method']})"
    extra = [f"{k} {v[k]}" for k in ("seed", "tolerance") if v.get(k) is not None]
    lines.append(head + (f", {', '.join(extra)}" if extra else "") + ":")
    width = max([len(str(r["name"])) for r in rows] + [6])
    for r in rows:
        mark = {True: "ok", False: "FAIL", None: "?"}[None if r["passed"] is None
                                                      else bool(r["passed"])]
        lines.append(f"  {str(r['name']):<{width}}  max abs {_fmt(r['max_abs']):>9}  "
                     f"max rel {_fmt(r['max_rel']):>9}  "
                     + (f"err/scale {_fmt(r['scaled']):>9}  " if r["scaled"] is not None else "")
                     + f"tolerance {_fmt(r['tolerance']):>7}  {mark}")
    if not rows:
        lines.append("  (the report lists no per-output errors)")
    verified = bool(result.verified)
    div = _first(v, "divergence", "first_divergence") or report.get("divergence")
    if not verified and div:
        lines.append(f"first divergence: {json.dumps(div) if not isinstance(div, str) else div}")
    if report.get("note"):
        lines.append(f"note: {report['note']}")
    n_bad = sum(1 for r in rows if r["passed"] is False)
    if verified:
        lines.append(f"PASS: {len(rows)} output(s) within tolerance in {elapsed:.1f}s")
    else:
        lines.append(f"FAIL: {n_bad or 'some'} output(s) outside tolerance in {elapsed:.1f}s")
        lines.append("hint: nothing was written; --json prints the whole report (and the "
                     "first diverging node it names); a looser --tolerance only helps if the "
                     "error is numeric noise; --option write_unverified=1 writes the outputs")
    return lines, verified


def error_lines(err: BaseException) -> tuple[list[str], int]:
    """A failed conversion as lines to print (message, every issue, a hint) + exit code."""
    code = getattr(err, "code", None)
    code_name = getattr(code, "name", None) or (str(code) if code is not None else "")
    message = getattr(err, "message", None) or str(err)
    issues = list(getattr(err, "issues", []) or [])
    lines = [f"error{f' ({code_name})' if code_name else ''}: {message}"]
    if issues:
        lines.append(f"{len(issues)} issue(s):")
    hints = []
    for i in issues:
        icode = getattr(i, "code", "")
        loc = getattr(i, "location", "")
        lines.append(f"  [{icode}] {loc + ': ' if loc else ''}{getattr(i, 'message', i)}")
        if icode in ISSUE_HINTS and ISSUE_HINTS[icode] not in hints:
            hints.append(ISSUE_HINTS[icode])
    if code_name in CODE_HINTS:
        hints.append(CODE_HINTS[code_name])
    if not hints:
        hints.append("see the service logs: `nnrosetta status` lists them")
    lines += [f"hint: {h}" for h in hints]
    return lines, EXIT_BAD_INPUT if code_name in BAD_INPUT_CODES else EXIT_FAILED


# --------------------------------------------------------------------------- commands


def make_client(address: str, token: str | None = None, credentials: Any = None) -> Any:
    from nnrosetta.client import GatewayClient

    return GatewayClient(address, token=token, credentials=credentials)


def client_for(args: argparse.Namespace, address: str) -> Any:
    """The client the flags ask for: --token / $NNROSETTA_TOKEN, TLS with --tls-*."""
    token = getattr(args, "token", None) or os.environ.get("NNROSETTA_TOKEN") or None
    ca, cert, key = (getattr(args, "tls_ca", None), getattr(args, "tls_cert", None),
                     getattr(args, "tls_key", None))
    if not (ca or cert or key):
        return make_client(address, token)
    from nnrosetta.rpc.security import SecurityConfigError, channel_credentials

    try:
        creds = channel_credentials(ca, cert, key, vars=("--tls-ca", "--tls-cert", "--tls-key"))
    except SecurityConfigError as e:
        raise UsageError(str(e)) from None
    return make_client(address, token, credentials=creds)


@contextlib.contextmanager
def gateway(explicit: str | None, say) -> Iterator[str]:
    """The gateway to talk to: --gateway, $NNROSETTA_GATEWAY, the `nnrosetta up` stack, or a
    temporary stack started for this command."""
    addr = explicit or os.environ.get("NNROSETTA_GATEWAY")
    if addr:
        yield addr
        return
    from nnrosetta.stack import LocalStack

    st = LocalStack()
    if st.running():
        yield st.gateway_address
        return
    say("no local stack running (`nnrosetta up` keeps one running); starting a temporary one")
    with LocalStack(progress=say) as eph:
        yield eph.gateway_address


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, default=str)


def cmd_convert(args: argparse.Namespace, rep: Reporter) -> int:
    req = request_from_args(args)
    _check_local_inputs(req)
    plan_only = args.command == "plan" or getattr(args, "dry_run", False)
    with gateway(args.gateway, rep.say) as addr:
        client = client_for(args, addr)
        if plan_only:
            plan = client.plan(req["source_format"], req["source"], req["target_format"],
                               req["destination"], options=req["options"],
                               constraints=req["constraints"])
            if args.json:
                from google.protobuf.json_format import MessageToDict

                print(_dump(MessageToDict(plan)))
            else:
                print("\n".join(plan_lines(plan)))
            return EXIT_OK
        rep.say(f"converting {req['source_format']} -> {req['target_format']} via {addr}")
        result = client.convert(req["source_format"], req["source"], req["target_format"],
                                req["destination"], options=req["options"],
                                verify=req["verify"], overwrite=req["overwrite"],
                                constraints=req["constraints"],
                                on_event=rep.on_event)
    lines, ok = summary_lines(result, time.monotonic() - rep.t0)
    out = sys.stderr if args.json else sys.stdout
    print("\n".join(lines), file=out, flush=True)
    if args.json:
        print(_dump(result.report))
    return EXIT_OK if ok else EXIT_VERIFY


def cmd_converters(args: argparse.Namespace, rep: Reporter) -> int:
    with gateway(args.gateway, rep.say) as addr:
        convs = client_for(args, addr).converters()
    if args.json:
        from google.protobuf.json_format import MessageToDict

        print(_dump([MessageToDict(c, preserving_proto_field_name=True) for c in convs]))
        return EXIT_OK
    if not convs:
        print("the gateway knows no converters")
    for c in convs:
        fw = f"{c.framework} {c.framework_version}".strip()
        print(f"{c.name:<18} {fw:<22} reads {','.join(c.reads) or '-'} writes "
              f"{','.join(c.writes) or '-'}  {'serving' if c.serving else 'NOT SERVING'}  "
              f"{c.address}")
    return EXIT_OK


def cmd_up(args: argparse.Namespace, rep: Reporter) -> int:
    from nnrosetta.stack import LocalStack

    names = [s.strip() for s in args.services.split(",") if s.strip()] if args.services \
        else None
    replicas: dict[str, int] = {}
    for k, v in _pairs(args.replicas, "--replicas").items():
        if not v.isdigit() or int(v) < 1:
            raise UsageError(f"--replicas expects NAME=N with N >= 1, got {k}={v}")
        replicas[k] = int(v)
    st = LocalStack(replicas=replicas)
    addrs = st.up(services=names, progress=rep.say)
    for name, addr in addrs.items():
        print(f"{name:<18} {addr}")
    print(f"stack running (state in {st.state_dir}); stop it with `nnrosetta down`")
    return EXIT_OK


def cmd_down(args: argparse.Namespace, rep: Reporter) -> int:
    from nnrosetta.stack import LocalStack

    stopped = LocalStack().down(progress=rep.say)
    print(f"stopped {', '.join(stopped)}" if stopped else "no local stack was running")
    return EXIT_OK


def cmd_status(args: argparse.Namespace, rep: Reporter) -> int:
    from nnrosetta.stack import LocalStack

    st = LocalStack()
    status = st.status()
    if not status:
        print("no local stack (start one with `nnrosetta up`)")
        return EXIT_FAILED
    ok = True
    for name, s in status.items():
        ok &= s["health"] == "SERVING"
        print(f"{name:<18} pid {s['pid']:<8} {s['address']:<22} {s['health']:<12} {s['log']}")
    print(f"gateway: {st.gateway_address}" if ok else
          "some services are not serving: look at their logs; `nnrosetta down` then "
          "`nnrosetta up` restarts the stack")
    return EXIT_OK if ok else EXIT_FAILED


COMMANDS = {"convert": cmd_convert, "plan": cmd_convert, "toir": cmd_convert,
            "tocode": cmd_convert, "tomodel": cmd_convert, "converters": cmd_converters,
            "up": cmd_up, "down": cmd_down, "status": cmd_status}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    rep = Reporter()
    try:
        return COMMANDS[args.command](args, rep)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - every failure becomes a message + exit code
        from nnrosetta.stack import StackError

        if isinstance(e, StackError):
            print(f"error: {e}", file=sys.stderr)
            print("hint: pass --gateway HOST:PORT to use a running gateway, or fix the "
                  "stack (`nnrosetta status`)", file=sys.stderr)
            return EXIT_FAILED
        if not (hasattr(e, "code") and (hasattr(e, "issues") or callable(e.code))):
            raise
        if callable(getattr(e, "code", None)):  # a bare grpc.RpcError
            e = _RpcFailure(e)
        lines, code = error_lines(e)
        print("\n".join(lines), file=sys.stderr)
        return code


class _RpcFailure(Exception):
    def __init__(self, e: Any):
        self.code = e.code()
        self.message = e.details() if hasattr(e, "details") else str(e)
        try:
            from nnrosetta.rpc.errors import issues_from_rpc_error

            self.issues = issues_from_rpc_error(e)[1]
        except Exception:  # noqa: BLE001
            self.issues = []
        super().__init__(self.message)


if __name__ == "__main__":
    sys.exit(main())
