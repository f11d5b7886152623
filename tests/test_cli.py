"""`nnrosetta` command line: flags -> request, progress and summary output, errors, exit codes.
The gateway client is replaced by a fake; no service runs here."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import grpc
import pytest

from nnrosetta import cli
from nnrosetta.proto import gateway_pb2 as gw


def parse(*argv: str) -> dict:
    return cli.request_from_args(cli.build_parser().parse_args(list(argv)))


@pytest.fixture
def files(tmp_path):
    net = tmp_path / "net.prototxt"
    w = tmp_path / "net.caffemodel"
    net.write_text("name: 'x'")
    w.write_bytes(b"\0")
    return net, w


# --------------------------------------------------------------------------- flags


def test_mmdnn_convert_flags(files, tmp_path):
    net, w = files
    req = parse("convert", "-sf", "caffe", "-in", str(net), "-iw", str(w), "-df", "pytorch",
                "-om", str(tmp_path / "out"), "--inputShape", "data:1,3,224,224",
                "--option", "artifacts=all", "--option", "x=a=b", "--tolerance", "1e-3",
                "--seed", "7", "--overwrite")
    assert req == {
        "source_format": "caffe",
        "source": {"network": net.resolve().as_uri(), "weights": w.resolve().as_uri()},
        "target_format": "pytorch",
        "destination": (tmp_path / "out").resolve().as_uri(),
        "options": {"artifacts": "all", "x": "a=b", "input_shape": "data:1,3,224,224"},
        "constraints": {},
        "verify": {"tolerance": 1e-3, "seed": 7},
        "overwrite": True,
    }
    assert req["source"]["network"].startswith("file:///")


def test_require_flag_becomes_version_constraints(files, tmp_path):
    net, w = files
    req = parse("convert", "-sf", "keras", "-in", str(net), "-df", "pytorch",
                "-om", str(tmp_path / "out"), "--require", "keras=<3",
                "--require", "tensorflow==2.15", "--require", "Keras=2")
    assert req["constraints"] == {"keras": "2", "tensorflow": "==2.15"}
    with pytest.raises(cli.UsageError):
        parse("convert", "-sf", "keras", "-in", str(net), "-df", "pytorch",
              "-om", str(tmp_path / "out"), "--require", "keras")


def test_a_folder_is_a_source(tmp_path):
    """A SavedModel is a folder: -in takes it (the gateway sends its files)."""
    sm = tmp_path / "sm"
    sm.mkdir()
    (sm / "saved_model.pb").write_bytes(b"x")
    req = parse("convert", "-sf", "tensorflow", "-in", str(sm), "-df", "pytorch",
                "-om", str(tmp_path / "out"))
    assert req["source"] == {"network": sm.resolve().as_uri()}


def test_long_flags_are_the_same_request(files, tmp_path):
    net, w = files
    short = parse("convert", "-sf", "caffe", "-in", str(net), "-iw", str(w), "-df", "pytorch",
                  "-om", "out")
    long = parse("convert", "--source-format", "Caffe", "--network", str(net), "--weights",
                 str(w), "--target-format", "pytorch", "--output", "out")
    mm = parse("convert", "--srcFramework", "caffe", "--inputNetwork", str(net),
               "--inputWeight", str(w), "--dstFramework", "pytorch", "--outputModel", "out")
    assert short == long == mm
    assert short["verify"] is None and short["overwrite"] is False
    assert short["destination"] == Path("out").resolve().as_uri()


def test_s3_uris_pass_through():
    req = parse("convert", "-sf", "caffe", "-in", "s3://b/m/net.prototxt", "-iw",
                "s3://b/m/net.caffemodel", "-df", "pytorch", "-om", "s3://b/out/",
                "--no-verify")
    assert req["source"] == {"network": "s3://b/m/net.prototxt",
                             "weights": "s3://b/m/net.caffemodel"}
    assert req["destination"] == "s3://b/out/"
    assert req["verify"] == {"skip": True}


def test_toir_tocode_tomodel():
    toir = parse("toir", "-f", "caffe", "-n", "n.prototxt", "-w", "n.caffemodel", "-o", "ir")
    assert (toir["source_format"], toir["target_format"]) == ("caffe", "ir")
    assert set(toir["source"]) == {"network", "weights"}
    code = parse("tocode", "-f", "pytorch", "-n", "ir/graph.pb", "-w", "ir/weights.npz",
                 "-o", "code")
    assert (code["source_format"], code["target_format"]) == ("ir", "pytorch")
    assert code["options"] == {"artifacts": "code"}
    assert code["source"]["network"].endswith("/ir/graph.pb")
    assert code["source"]["weights"].endswith("/ir/weights.npz")
    model = parse("tomodel", "-f", "pytorch", "-n", "g.pb", "-w", "w.npz", "-o", "m",
                  "--option", "artifacts=code")
    assert model["options"] == {"artifacts": "model"}  # the command decides


@pytest.mark.parametrize("argv, msg", [
    (["--option", "novalue"], "--option expects KEY=VALUE"),
    (["--input-shape", "data:1x3"], "--input-shape expects"),
    (["--input-shape", "1,3,224,224"], "--input-shape expects NAME:N,C,H,W"),
    (["--tolerance", "0"], "--tolerance must be > 0"),
])
def test_bad_flags_exit_2(files, capsys, argv, msg):
    net, w = files
    rc = cli.main(["convert", "-sf", "caffe", "-in", str(net), "-iw", str(w), "-df", "pytorch",
                   "-om", "out", "--gateway", "x:1", *argv])
    assert rc == 2
    assert msg in capsys.readouterr().err


def test_missing_local_input_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "make_client", lambda *a: pytest.fail("no client expected"))
    rc = cli.main(["convert", "-sf", "caffe", "-in", str(tmp_path / "nope.prototxt"),
                   "-df", "pytorch", "-om", "out", "--gateway", "x:1"])
    assert rc == 2
    assert f"network file not found: {tmp_path / 'nope.prototxt'}" in capsys.readouterr().err


def test_missing_required_flag_is_argparse_error(capsys):
    with pytest.raises(SystemExit) as ei:
        cli.main(["convert", "-sf", "caffe", "-in", "a", "-om", "x"])
    assert ei.value.code == 2
    assert "-df" in capsys.readouterr().err


# --------------------------------------------------------------------------- a fake gateway


PLAN = gw.ConversionPlan(hop=[
    gw.Hop(service="frontend-caffe", address="127.0.0.1:1", action="ToIR", from_format="caffe",
           to_format="ir", framework_version="1.0"),
    gw.Hop(service="backend-pytorch", address="127.0.0.1:2", action="FromIR", from_format="ir",
           to_format="pytorch", framework_version="2.13.0")],
    verify_with="frontend-caffe Run vs backend-pytorch Run")


@dataclass
class Result:
    outputs: list
    report: dict
    verified: bool


@dataclass
class FakeClient:
    address: str
    token: str | None = None
    calls: list = field(default_factory=list)
    result: Result | None = None
    error: Exception | None = None

    def convert(self, source_format, source, target_format, destination, *, options=None,
                verify=None, overwrite=False, constraints=None, on_event=None):
        self.constraints = constraints
        self.calls.append(("convert", source_format, source, target_format, destination,
                           options, verify, overwrite))
        on_event(gw.ConvertEvent(plan=PLAN))
        for hop, stage, frac in [(-1, "fetch", -1), (0, "to_ir", 0.0), (0, "to_ir", 0.02),
                                 (0, "to_ir", 0.5), (0, "to_ir", 1.0), (1, "from_ir", 1.0),
                                 (-1, "verify", -1)]:
            on_event(gw.ConvertEvent(progress=gw.Stage(stage=stage, message="m", hop=hop,
                                                       fraction=frac)))
        if self.error:
            raise self.error
        on_event(gw.ConvertEvent(result=gw.Result(outputs=self.result.outputs)))
        return self.result

    def plan(self, source_format, source, target_format, destination, options=None,
             constraints=None):
        self.calls.append(("plan", source_format, source, target_format, destination, options))
        return PLAN

    def converters(self):
        return [gw.Converter(name="frontend-caffe", address="127.0.0.1:1", framework="caffe",
                             framework_version="1.0", reads=["caffe"], writes=["ir"],
                             serving=True)]


# the gateway's report (services/gateway verify.Comparison.to_dict), plus a terser spelling
REPORT = {"verification": {"status": "passed", "seed": 0, "tolerance": 1e-4, "outputs": [
    {"name": "prob", "max_abs_error": 1.5e-7, "max_rel_error": 2e-7,
     "error_relative_to_scale": 1e-7, "tolerance": 1e-4, "pass": True},
    {"name": "fc7", "max_abs": 3e-6, "max_rel": 5e-5}]}}


@pytest.fixture
def fake(monkeypatch):
    holder: dict = {}

    def make(address, token=None):
        c = FakeClient(address, token, result=holder.get("result"), error=holder.get("error"))
        holder["client"] = c
        return c

    monkeypatch.setattr(cli, "make_client", make)
    monkeypatch.delenv("NNROSETTA_TOKEN", raising=False)
    return holder


def run_convert(files, *extra):
    net, w = files
    return cli.main(["convert", "-sf", "caffe", "-in", str(net), "-iw", str(w), "-df",
                     "pytorch", "-om", "/tmp/out", "--gateway", "127.0.0.1:9", *extra])


def test_convert_progress_and_pass_summary(files, fake, capsys):
    fake["result"] = Result(["file:///tmp/out/model.py", "file:///tmp/out/report.json"],
                            REPORT, True)
    assert run_convert(files, "--seed", "3") == 0
    out, err = capsys.readouterr()
    c = fake["client"]
    assert c.address == "127.0.0.1:9"
    assert c.calls[0][6] == {"seed": 3}
    assert "plan: caffe -> ir -> pytorch" in err
    assert "hop 0: frontend-caffe ToIR caffe -> ir [1.0] at 127.0.0.1:1" in err
    assert "frontend-caffe ToIR to_ir  50%: m" in err
    assert "frontend-caffe ToIR to_ir   2%" not in err  # throttled
    assert "gateway verify: m" in err
    assert "s] " in err  # elapsed seconds
    assert "file:///tmp/out/model.py" in out
    assert "outputs written (2):" in out
    lines = out.splitlines()
    prob = next(ln for ln in lines if ln.strip().startswith("prob"))
    assert "1.5e-07" in prob and "2e-07" in prob and "err/scale     1e-07" in prob
    assert prob.endswith("ok")
    fc7 = next(ln for ln in lines if ln.strip().startswith("fc7"))
    assert "3e-06" in fc7 and "5e-05" in fc7 and "0.0001" in fc7 and fc7.endswith("ok")
    assert lines[-1].startswith("PASS: 2 output(s) within tolerance")


def test_summary_lists_every_form_of_the_output(files, fake, capsys):
    """The delivered model's other forms (the TorchScript file) get their own rows; a failing
    one fails the summary."""
    import copy

    report = copy.deepcopy(REPORT)
    out0 = report["verification"]["outputs"][0]
    report["verification"]["forms"] = [
        {"run_options": {"use": "eager"}, "status": "passed"},
        {"run_options": {"use": "torchscript"}, "status": "failed",
         "outputs": [dict(out0, error_relative_to_scale=0.5, **{"pass": False})]}]
    fake["result"] = Result(["file:///tmp/out/model.py"], report, False)
    assert run_convert(files) == 3
    lines = capsys.readouterr().out.splitlines()
    ts = next(ln for ln in lines if "(use=torchscript)" in ln)
    assert ts.strip().startswith(out0["name"]) and ts.endswith("FAIL")
    assert any(ln.startswith("FAIL: 1 output(s) outside tolerance") for ln in lines)


def test_convert_verification_failure_exit_3(files, fake, capsys):
    report = {"verification": {"status": "failed", "tolerance": 1e-4, "outputs": [
        {"name": "prob", "max_abs_error": 0.2, "max_rel_error": 0.3,
         "error_relative_to_scale": 0.1, "tolerance": 1e-4, "pass": False}],
        "first_divergence": {"node": "conv2", "op": "Conv"}},
        "note": "verification failed: nothing was written to the destination"}
    fake["result"] = Result(["file:///tmp/out/model.py"], report, False)
    assert run_convert(files) == 3
    out = capsys.readouterr().out
    assert any(ln.startswith("FAIL: 1 output(s) outside tolerance") for ln in out.splitlines())
    assert next(ln for ln in out.splitlines() if ln.strip().startswith("prob")).endswith("FAIL")
    assert '"node": "conv2"' in out
    assert "hint:" in out and "note: verification failed: nothing was written" in out


def test_convert_skipped_verification(files, fake, capsys):
    fake["result"] = Result(["file:///tmp/out/model.py"],
                            {"verification": {"status": "skipped",
                                              "reason": "requested by the client"}}, False)
    assert run_convert(files, "--no-verify") == 0
    assert fake["client"].calls[0][6] == {"skip": True}
    out = capsys.readouterr().out
    assert "verification skipped (requested by the client)" in out
    assert "DONE (not verified)" in out


def test_convert_json_prints_report(files, fake, capsys):
    fake["result"] = Result(["file:///tmp/out/model.py"], REPORT, True)
    assert run_convert(files, "--json") == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == REPORT
    assert "PASS" in err


def test_dry_run_prints_plan(files, fake, capsys):
    assert run_convert(files, "--dry-run") == 0
    out = capsys.readouterr().out
    assert fake["client"].calls[0][0] == "plan"
    assert "hop 1: backend-pytorch FromIR ir -> pytorch [2.13.0]" in out
    assert "verify: frontend-caffe Run vs backend-pytorch Run" in out
    net, w = files
    assert cli.main(["plan", "-sf", "caffe", "-in", str(net), "-iw", str(w), "-df", "pytorch",
                     "--gateway", "h:1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["hop"][0]["service"] == "frontend-caffe"
    assert fake["client"].calls[0][4] == ""


class ConversionFailed(Exception):  # the shape of nnrosetta.client.ConversionFailed
    def __init__(self, code, message, issues=()):
        super().__init__(message)
        self.code, self.message, self.issues = code, message, list(issues)


def issue(code, location, message):
    return SimpleNamespace(code=code, location=location, message=message)


def test_bad_model_lists_every_issue_exit_2(files, fake, capsys):
    fake["error"] = ConversionFailed(
        grpc.StatusCode.INVALID_ARGUMENT, "the model cannot be converted",
        [issue("UNSUPPORTED_LAYER", "roi_pool5", "ROIPooling is not supported"),
         issue("MISSING_INPUT_SHAPE", "data", "the input has no shape"),
         issue("SYNTAX", "", "bad token")])
    assert run_convert(files) == 2
    err = capsys.readouterr().err
    assert "error (INVALID_ARGUMENT): the model cannot be converted" in err
    assert "3 issue(s):" in err
    assert "  [UNSUPPORTED_LAYER] roi_pool5: ROIPooling is not supported" in err
    assert "  [MISSING_INPUT_SHAPE] data: the input has no shape" in err
    assert "  [SYNTAX] bad token" in err
    assert "hint: pass the input's shape: --input-shape NAME:N,C,H,W" in err
    assert "hint: `nnrosetta converters --json` lists the ops" in err


@pytest.mark.parametrize("code, rc, hint", [
    (grpc.StatusCode.UNIMPLEMENTED, 2, "not supported yet"),
    (grpc.StatusCode.ALREADY_EXISTS, 2, "--overwrite"),
    (grpc.StatusCode.NOT_FOUND, 2, "check the input paths"),
    (grpc.StatusCode.UNAVAILABLE, 1, "nnrosetta status"),
    (grpc.StatusCode.INTERNAL, 1, "service logs"),
])
def test_error_codes(files, fake, capsys, code, rc, hint):
    fake["error"] = ConversionFailed(code, "nope")
    assert run_convert(files) == rc
    assert hint in capsys.readouterr().err


def test_converters(fake, capsys):
    assert cli.main(["converters", "--gateway", "h:1"]) == 0
    out = capsys.readouterr().out
    assert "frontend-caffe" in out and "reads caffe writes ir" in out and "serving" in out
    assert cli.main(["converters", "--gateway", "h:1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["framework_version"] == "1.0"


def test_gateway_from_env_and_token(files, fake, monkeypatch):
    monkeypatch.setenv("NNROSETTA_GATEWAY", "10.0.0.1:50051")
    monkeypatch.setenv("NNROSETTA_TOKEN", "sekret")
    fake["result"] = Result([], REPORT, True)
    net, w = files
    assert cli.main(["toir", "-f", "caffe", "-n", str(net), "-w", str(w), "-o", "ir"]) == 0
    c = fake["client"]
    assert (c.address, c.token) == ("10.0.0.1:50051", "sekret")
    assert c.calls[0][3] == "ir"


def test_status_without_stack(tmp_path, monkeypatch, capsys):
    root = tmp_path / "root"
    (root / "services").mkdir(parents=True)
    monkeypatch.setenv("NNROSETTA_HOME", str(root))
    assert cli.main(["status"]) == 1
    assert "no local stack" in capsys.readouterr().out
    assert cli.main(["down"]) == 0
    assert "no local stack was running" in capsys.readouterr().out
