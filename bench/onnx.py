"""ONNX -> PyTorch: nnrosetta against onnx2torch, measured in the same run.

(a) conformance: the 751 float32 ONNX backend node tests (tests/conformance/harness.py), each
    converted and run by
    * nnrosetta, in process: frontend-onnx to_ir -> backend-pytorch from_ir (model.py +
      weights.pth) -> backend-pytorch run; and ONNX -> IR -> ONNX (backend-onnx) ->
      onnxruntime;
    * onnx2torch 1.5.15: ``onnx2torch.convert(model)`` then the module called on the inputs;
    * onnxruntime on the original model (the reference runtime);
    pass counts and total conversion time (to_ir + from_ir; onnx2torch: convert).
(b) ResNet-50: written in plain torch with random weights (batch-norm statistics randomised so
    activations stay of order one), exported with ``torch.onnx.export(dynamo=False)`` at opset
    17, converted to PyTorch by each (median of --repeat after a warm-up), both outputs
    compared with onnxruntime's on the same input.

onnx2torch is installed with ``--no-deps`` into .venvs/bench-onnx2torch (it is not in
requirements-dev.txt: it requires torchvision, whose PyPI build does not import beside the CPU
torch). torchvision is used only by its NonMaxSuppression and RoiAlign converters, neither of
which a float32 node test or ResNet-50 reaches, so a stub torchvision (whose functions raise)
lets it import.

    PYTHONPATH=. .venv/bin/python -m bench.onnx [--repeat 3] [--skip-conformance]
"""

from __future__ import annotations

import argparse
import gc
import importlib
import subprocess
import sys
import tempfile
import time
import types
import warnings
from pathlib import Path

import numpy as np

from bench.common import ROOT, log, median, save, table

O2T_VERSION = "1.5.15"
O2T_DIR = ROOT / ".venvs" / "bench-onnx2torch"


# --------------------------------------------------------------------------- onnx2torch


def _stub_torchvision() -> None:
    try:
        import torchvision  # noqa: F401
        return
    except Exception:  # noqa: BLE001 - the CUDA build from PyPI fails beside the CPU torch
        for k in [k for k in sys.modules if k == "torchvision" or k.startswith("torchvision.")]:
            del sys.modules[k]

    def missing(*_a, **_k):
        raise NotImplementedError("torchvision is not installed (bench stub)")

    tv = types.ModuleType("torchvision")
    ops = types.ModuleType("torchvision.ops")
    ops.nms = ops.box_convert = ops.roi_align = missing
    tv.ops = ops
    tv.__version__ = "0+stub"
    sys.modules["torchvision"] = tv
    sys.modules["torchvision.ops"] = ops


def onnx2torch():
    """onnx2torch, installed on first use into .venvs/bench-onnx2torch (no dependencies)."""
    if not (O2T_DIR / "onnx2torch").is_dir():
        log(f"installing onnx2torch=={O2T_VERSION} into {O2T_DIR.relative_to(ROOT)}")
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                               "--target", str(O2T_DIR), f"onnx2torch=={O2T_VERSION}"])
    if str(O2T_DIR) not in sys.path:
        sys.path.append(str(O2T_DIR))
    _stub_torchvision()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return importlib.import_module("onnx2torch")


def _o2t_convert(o2t, model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return o2t.convert(model)


def _o2t_run(module, inputs: list[np.ndarray]) -> list[np.ndarray]:
    import torch

    module.eval()          # onnx2torch returns a module in training mode (BatchNorm, Dropout)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = module(*[torch.from_numpy(np.array(a, copy=True)) for a in inputs])
    outs = out if isinstance(out, (tuple, list)) else [out]
    return [o.detach().cpu().numpy() if isinstance(o, torch.Tensor) else np.asarray(o)
            for o in outs]


def _ort_session(model_bytes: bytes):
    import onnxruntime as ort

    ort.set_default_logger_severity(3)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(model_bytes, so, providers=["CPUExecutionProvider"])


# --------------------------------------------------------------------------- (a) conformance


def conformance() -> dict:
    from tests.conformance import harness as H

    cases = H.load_cases()
    o2t = onnx2torch()
    res: dict[str, dict] = {}

    # nnrosetta, both ways
    log(f"nnrosetta: {len(cases)} float32 node tests, two ways")
    nn = {w: {"passed": 0, "conversion_s": 0.0, "run_s": 0.0, "kinds": {}} for w in H.WAYS}
    t0 = time.perf_counter()
    with H.Harness() as h:
        for c in cases:
            for w in H.WAYS:
                r = h.run(c, w)
                s = nn[w]
                s["passed"] += r.passed
                s["kinds"][r.kind] = s["kinds"].get(r.kind, 0) + 1
                # to_ir is shared by the two ways: count it in each
                s["conversion_s"] += r.times.get("to_ir_s", 0.0) + r.times.get("from_ir_s", 0.0)
                s["run_s"] += r.times.get("run_s", 0.0)
    res["nnrosetta_wall_s"] = time.perf_counter() - t0
    res["nnrosetta"] = nn

    # onnx2torch
    log("onnx2torch: the same tests")
    o = {"passed": 0, "conversion_s": 0.0, "run_s": 0.0, "kinds": {}, "converted": 0,
         "failures": {}}
    t0 = time.perf_counter()
    for c in cases:
        kind, why = "pass", ""
        t1 = time.perf_counter()
        try:
            module = _o2t_convert(o2t, c.model)
        except Exception as e:  # noqa: BLE001
            o["conversion_s"] += time.perf_counter() - t1
            msg = str(e).split("\n", 1)[0]
            kind = "unsupported" if isinstance(e, NotImplementedError) else "conversion"
            why = f"{type(e).__name__}: {msg}"[:200]
        else:
            o["conversion_s"] += time.perf_counter() - t1
            o["converted"] += 1
            t2 = time.perf_counter()
            try:
                got = _o2t_run(module, c.inputs)
            except Exception as e:  # noqa: BLE001
                kind, why = "runtime", f"{type(e).__name__}: {str(e).splitlines()[0][:200]}" \
                    if str(e) else type(e).__name__
            else:
                why = H.compare(c.outputs, got, c.output_names, c.rtol, c.atol) or ""
                kind = "mismatch" if why else "pass"
            o["run_s"] += time.perf_counter() - t2
        o["passed"] += kind == "pass"
        o["kinds"][kind] = o["kinds"].get(kind, 0) + 1
        if kind != "pass":
            o["failures"][c.name] = f"{kind}: {why}"
    res["onnx2torch_wall_s"] = time.perf_counter() - t0
    res["onnx2torch"] = o

    # onnxruntime on the original models
    log("onnxruntime: the original models")
    ort_pass, t0 = 0, time.perf_counter()
    for c in cases:
        try:
            sess = _ort_session(c.model.SerializeToString())
            feeds = dict(zip(c.input_names, c.inputs, strict=True))
            got = sess.run(None, feeds)
            ort_pass += H.compare(c.outputs, got, c.output_names, c.rtol, c.atol) is None
        except Exception:  # noqa: BLE001 - counted as not passed
            pass
    res["onnxruntime"] = {"passed": ort_pass, "wall_s": time.perf_counter() - t0}
    res["count"] = len(cases)
    return res


# --------------------------------------------------------------------------- (b) ResNet-50


def resnet50_onnx(path: Path, seed: int = 0) -> np.ndarray:
    """A ResNet-50 (torchvision's layout, plain torch, random weights) exported to ONNX at
    opset 17 with the TorchScript exporter; returns the example input."""
    import torch
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self, cin: int, width: int, stride: int):
            super().__init__()
            cout = width * 4
            self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

        def forward(self, x):
            idt = x if self.down is None else self.down(x)
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.relu(self.bn2(self.conv2(y)))
            return self.relu(self.bn3(self.conv3(y)) + idt)

    class ResNet50(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64),
                                      nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
            blocks, cin = [], 64
            for width, n, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
                for i in range(n):
                    blocks.append(Bottleneck(cin, width, stride if i == 0 else 1))
                    cin = width * 4
            self.blocks = nn.Sequential(*blocks)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(2048, 1000)

        def forward(self, x):
            return self.fc(torch.flatten(self.pool(self.blocks(self.stem(x))), 1))

    torch.manual_seed(seed)
    net = ResNet50()
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
    net.eval()
    x = torch.randn(1, 3, 224, 224)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), str(path), dynamo=False, opset_version=17,
                          input_names=["input"], output_names=["logits"])
    return x.numpy()


def resnet50(repeat: int) -> dict:
    import onnx

    from tests.conformance import harness as H

    work = Path(tempfile.mkdtemp(prefix="nnr-bench-onnx-"))
    path = work / "resnet50.onnx"
    log("ResNet-50: building and exporting (opset 17)")
    x = resnet50_onnx(path)
    model = onnx.load(str(path))
    ref = _ort_session(model.SerializeToString()).run(None, {"input": x})[0]
    case = H.Case(name="resnet50", op="ResNet50", domain="", opset=17, model=model, inputs=[x],
                  outputs=[ref], rtol=1e-3, atol=1e-4)
    out: dict[str, dict] = {"weights_MB": path.stat().st_size / 1e6,
                            "output_absmax": float(np.abs(ref).max())}

    # nnrosetta: to_ir + from_ir (model.py + weights.pth) = conversion; then its run
    nn_runs = []
    with H.Harness() as h:
        for i in range(repeat + 1):
            h._last_ir = None            # convert afresh each time
            gc.collect()
            times: dict[str, float] = {}
            got = h.outputs(case, "pytorch", times)[0]
            if i:
                nn_runs.append(times)
            log(f"nnrosetta #{i}: " + " ".join(f"{k}={v:.2f}" for k, v in times.items()))
    err = float(np.abs(got - ref).max())
    out["nnrosetta"] = {
        "conversion_s": median([t["to_ir_s"] + t["from_ir_s"] for t in nn_runs]),
        "to_ir_s": median([t["to_ir_s"] for t in nn_runs]),
        "from_ir_s": median([t["from_ir_s"] for t in nn_runs]),
        "run_s": median([t["run_s"] for t in nn_runs]),
        "max_abs_err": err, "max_rel_err": err / out["output_absmax"]}

    # onnx2torch: convert (from the loaded ModelProto, as nnrosetta starts from the file: the
    # file read is timed too), then the module's forward
    o2t = onnx2torch()
    o_runs = []
    for i in range(repeat + 1):
        gc.collect()
        t0 = time.perf_counter()
        module = _o2t_convert(o2t, onnx.load(str(path)))
        conv = time.perf_counter() - t0
        t1 = time.perf_counter()
        got = _o2t_run(module, [x])[0]
        run = time.perf_counter() - t1
        if i:
            o_runs.append({"conversion_s": conv, "run_s": run})
        log(f"onnx2torch #{i}: conversion_s={conv:.2f} run_s={run:.2f}")
    err = float(np.abs(got - ref).max())
    out["onnx2torch"] = {"conversion_s": median([r["conversion_s"] for r in o_runs]),
                         "run_s": median([r["run_s"] for r in o_runs]),
                         "max_abs_err": err, "max_rel_err": err / out["output_absmax"]}
    return out


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench.onnx", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-conformance", action="store_true")
    ap.add_argument("--skip-resnet", action="store_true")
    args = ap.parse_args(argv)
    data: dict = {"onnx2torch": O2T_VERSION}
    if not args.skip_conformance:
        c = conformance()
        data["conformance"] = c
        n, o, total = c["nnrosetta"], c["onnx2torch"], c["count"]
        rows = [
            ["nnrosetta ONNX -> IR -> PyTorch", n["pytorch"]["passed"], total,
             n["pytorch"]["conversion_s"], n["pytorch"]["run_s"]],
            ["nnrosetta ONNX -> IR -> ONNX", n["onnx"]["passed"], total,
             n["onnx"]["conversion_s"], n["onnx"]["run_s"]],
            [f"onnx2torch {O2T_VERSION}", o["passed"], total, o["conversion_s"], o["run_s"]],
            ["onnxruntime (original models)", c["onnxruntime"]["passed"], total, "-",
             c["onnxruntime"]["wall_s"]],
        ]
        print(f"\n### ONNX float32 node tests ({total}): passed and total time\n")
        print(table(["converter", "passed", "of", "conversion s", "run s"], rows))
        ratio_pass = n["pytorch"]["passed"] / max(o["passed"], 1)
        ratio_time = n["pytorch"]["conversion_s"] / max(o["conversion_s"], 1e-9)
        print(f"\nnnrosetta/onnx2torch (to PyTorch): passes x{ratio_pass:.2f}, conversion time "
              f"x{ratio_time:.2f}; onnx2torch failures by kind: {o['kinds']}")
        c["ratios"] = {"passed": ratio_pass, "conversion_s": ratio_time}
    if not args.skip_resnet:
        r = resnet50(args.repeat)
        data["resnet50"] = r
        rows = [[k, r[k]["conversion_s"], r[k]["run_s"], f"{r[k]['max_abs_err']:.2e}",
                 f"{r[k]['max_rel_err']:.2e}"] for k in ("nnrosetta", "onnx2torch")]
        print(f"\n### ResNet-50 ONNX (opset 17, {r['weights_MB']:.0f} MB) -> PyTorch (median of "
              f"{args.repeat}); errors against onnxruntime (|output| max "
              f"{r['output_absmax']:.3g})\n")
        print(table(["converter", "conversion s", "run s", "max abs err", "max rel err"], rows))
        ratio = r["nnrosetta"]["conversion_s"] / r["onnx2torch"]["conversion_s"]
        r["ratio_conversion_s"] = ratio
        print(f"\nnnrosetta/onnx2torch conversion time: x{ratio:.2f}; error ratio "
              f"x{r['nnrosetta']['max_abs_err'] / max(r['onnx2torch']['max_abs_err'], 1e-30):.2f}")
    save("onnx", data)
    return data


if __name__ == "__main__":
    main()
